-- One row per partner (country, grouping, U.S. total or other) and year: the ATP and goods
-- measures side by side, the shape shared by the partner, grouping and U.S. yearly marts.
with

partner_measure_year as (

    select * from {{ ref('int_trade__partner_measure_year') }}

),

atp as (

    select * from partner_measure_year where measure = 'ATP'

),

goods as (

    select * from partner_measure_year where measure = 'GOODS'

),

final as (

    select
        -- keys
        atp.partner_code,
        atp.year,

        -- dimensions
        atp.partner_kind,
        atp.months_covered,

        -- ATP (groups 01-10)
        atp.imports_usd as atp_imports_usd,
        atp.exports_usd as atp_exports_usd,
        atp.imports_missing_cells as atp_imports_missing_cells,
        atp.exports_missing_cells as atp_exports_missing_cells,
        atp.balance_usd as atp_balance_usd,
        atp.imports_change_usd as atp_imports_change_usd,
        atp.exports_change_usd as atp_exports_change_usd,
        atp.imports_yoy_pct as atp_imports_yoy_pct,
        atp.exports_yoy_pct as atp_exports_yoy_pct,
        atp.imports_share_pct as atp_imports_share_pct,
        atp.exports_share_pct as atp_exports_share_pct,

        -- goods (all commodities)
        goods.imports_usd as goods_imports_usd,
        goods.exports_usd as goods_exports_usd,
        goods.imports_missing_cells as goods_imports_missing_cells,
        goods.exports_missing_cells as goods_exports_missing_cells,
        goods.trade_usd as goods_trade_usd,
        goods.balance_usd as goods_balance_usd,
        goods.imports_yoy_pct as goods_imports_yoy_pct,
        goods.trade_yoy_pct as goods_trade_yoy_pct,

        -- ATP within goods
        {{ pct_of('atp.imports_usd', 'goods.imports_usd') }} as atp_share_of_goods_imports_pct

    from atp
    inner join goods
        on atp.partner_code = goods.partner_code and atp.year = goods.year

)

select * from final
