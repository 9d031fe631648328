-- One row per partner (country, grouping or U.S. total), measure and covered month.
-- Measures: '00'..'10' (one Census row each), 'ATP' (sum of groups 01-10) and
-- 'GOODS' (the all-commodities row). Every partner-month with any Census row has an
-- 'ATP' and a 'GOODS' row (0 when absent).
with

flows as (

    select * from {{ ref('int_trade__flows_monthly') }}

),

covered_months as (

    select year, month from {{ ref('int_trade__covered_months') }}

),

covered_flows as (

    select flows.*
    from flows
    semi join covered_months using (year, month)

),

hitech_groups as (

    select
        partner_code, partner_kind, hitech_code as measure, year, month, month_start,
        imports_usd,
        exports_usd
    from covered_flows
    where hitech_code <> 'TOTAL'

),

atp as (

    select
        partner_code, partner_kind, 'ATP' as measure, year, month, month_start,
        coalesce(sum(imports_usd) filter (where hitech_code in {{ atp_group_codes() }}), 0)::bigint
            as imports_usd,
        coalesce(sum(exports_usd) filter (where hitech_code in {{ atp_group_codes() }}), 0)::bigint
            as exports_usd
    from covered_flows
    group by all

),

goods as (

    select
        partner_code, partner_kind, 'GOODS' as measure, year, month, month_start,
        coalesce(sum(imports_usd) filter (where hitech_code = 'TOTAL'), 0)::bigint as imports_usd,
        coalesce(sum(exports_usd) filter (where hitech_code = 'TOTAL'), 0)::bigint as exports_usd
    from covered_flows
    group by all

),

unioned as (

    select * from hitech_groups
    union all
    select * from atp
    union all
    select * from goods

),

final as (

    select
        -- keys
        partner_code,
        measure,
        month_start,

        -- dimensions
        partner_kind,
        year,
        month,

        -- measures, whole dollars
        imports_usd,
        exports_usd,
        exports_usd - imports_usd as balance_usd,
        imports_usd + exports_usd as trade_usd

    from unioned

)

select * from final
