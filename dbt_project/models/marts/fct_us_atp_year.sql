-- One row per year from the U.S. total row (total for all countries).
with

us_year as (

    select * from {{ ref('int_trade__partner_year') }}
    where partner_kind = 'total'

),

final as (

    select
        -- keys
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

        -- goods
        goods_imports_usd,
        goods_exports_usd,
        goods_imports_missing_cells,
        goods_exports_missing_cells,
        goods_balance_usd

    from us_year

)

select * from final
