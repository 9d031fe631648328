-- One row per individual country and year: ATP and goods trade over the year's covered months.
with

partner_year as (

    select * from {{ ref('int_trade__partner_year') }}
    where partner_kind = 'country'

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

final as (

    select
        -- keys
        partner_code,
        partners.partner_name,
        year,
        months_covered,

        -- ATP
        atp_imports_usd,
        atp_exports_usd,
        atp_imports_missing_cells,
        atp_exports_missing_cells,
        atp_balance_usd,
        atp_imports_change_usd,
        atp_exports_change_usd,
        atp_imports_yoy_pct,
        atp_exports_yoy_pct,
        atp_imports_share_pct,
        atp_exports_share_pct,

        -- ATP rank among countries, 1 = largest; none for a value that is missing
        case when atp_imports_usd is not null then
            rank() over (partition by year order by atp_imports_usd desc nulls last)::integer
        end as atp_imports_rank,
        case when atp_exports_usd is not null then
            rank() over (partition by year order by atp_exports_usd desc nulls last)::integer
        end as atp_exports_rank,

        -- goods
        goods_imports_usd,
        goods_exports_usd,
        goods_imports_missing_cells,
        goods_exports_missing_cells,
        goods_trade_usd,
        goods_balance_usd,
        goods_imports_yoy_pct,
        goods_trade_yoy_pct,

        -- ATP within goods
        atp_share_of_goods_imports_pct

    from partner_year
    left join partners using (partner_code)

)

select * from final
