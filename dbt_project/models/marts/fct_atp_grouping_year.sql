-- One row per country grouping (EU, USMCA, 5XXX ASIA, ...) and year. Groupings overlap, so
-- they are neither ranked nor summed with countries.
with

partner_year as (

    select * from {{ ref('int_trade__partner_year') }}
    where partner_kind = 'grouping'

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

final as (

    select
        -- keys
        partner_code as grouping_code,
        partners.partner_name as grouping_name,
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
