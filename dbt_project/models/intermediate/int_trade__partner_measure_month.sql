-- One row per partner (country, grouping, U.S. total or other), measure and covered month.
-- Measures: '00'..'10' (one Census row each), 'ATP' (sum of groups 01-10) and
-- 'GOODS' (the all-commodities row). Every partner-month with any Census row has an
-- 'ATP' and a 'GOODS' row (0 when absent).
-- Missing values (an empty value cell, NULL in imports_usd / exports_usd) are skipped by the
-- sums and counted in *_missing_cells; a measure whose every cell is missing is NULL, not 0.
{%- set atp = 'hitech_code in ' ~ atp_group_codes() %}
{%- set goods = "hitech_code = 'TOTAL'" %}
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
        exports_usd,
        (imports_usd is null)::integer as imports_missing_cells,
        (exports_usd is null)::integer as exports_missing_cells
    from covered_flows
    where hitech_code <> 'TOTAL'

),

atp as (

    select
        partner_code, partner_kind, 'ATP' as measure, year, month, month_start,
        {{ sum_reported('imports_usd', atp) }} as imports_usd,
        {{ sum_reported('exports_usd', atp) }} as exports_usd,
        {{ count_missing('imports_usd', atp) }} as imports_missing_cells,
        {{ count_missing('exports_usd', atp) }} as exports_missing_cells
    from covered_flows
    group by all

),

goods as (

    select
        partner_code, partner_kind, 'GOODS' as measure, year, month, month_start,
        {{ sum_reported('imports_usd', goods) }} as imports_usd,
        {{ sum_reported('exports_usd', goods) }} as exports_usd,
        {{ count_missing('imports_usd', goods) }} as imports_missing_cells,
        {{ count_missing('exports_usd', goods) }} as exports_missing_cells
    from covered_flows
    group by all

),

unioned as (

    select * from hitech_groups
    union all by name
    select * from atp
    union all by name
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

        -- measures, whole dollars (NULL: every cell behind it is missing)
        imports_usd,
        exports_usd,
        exports_usd - imports_usd as balance_usd,
        imports_usd + exports_usd as trade_usd,

        -- missing value cells behind each flow's measure
        imports_missing_cells,
        exports_missing_cells

    from unioned

)

select * from final
