-- One row per year, flow, individual country and 10-digit code on that year's ATP code list:
-- which products make up a partner's ATP trade, and which drove its change.
with

product_year as (

    select * from {{ ref('int_trade__product_year') }}

),

partner_year as (

    -- the partner's ATP in the flow, and its year-before base over the same months
    select
        partner_code,
        year,
        atp_imports_usd - atp_imports_change_usd as prior_atp_imports_usd,
        atp_exports_usd - atp_exports_change_usd as prior_atp_exports_usd
    from {{ ref('int_trade__partner_year') }}

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

categories as (

    select hitech_code, category_name from {{ ref('dim_atp_category') }}

),

final as (

    select
        -- keys
        product_year.year,
        product_year.flow,
        product_year.partner_code,
        partners.partner_name,
        product_year.commodity_code,

        -- the product
        product_year.hs6_code,
        product_year.commodity_description,
        product_year.hitech_code as atp_group_code,
        categories.category_name as atp_group_name,

        -- amounts over the covered months, whole dollars
        product_year.months_covered,
        product_year.value_usd,
        product_year.missing_cells,
        product_year.prior_value_usd,

        -- year over year
        -- (a prior of 0 is a base: Census sends no row for no trade)
        (product_year.value_usd - product_year.prior_value_usd)::bigint as change_usd,
        {{ yoy_pct('product_year.value_usd', 'product_year.prior_value_usd') }} as yoy_pct,
        -- points of the partner's ATP change in the flow: they add up to its YoY in percent
        (cast(product_year.value_usd - product_year.prior_value_usd as double) * 100 / nullif(
            case product_year.flow
                when 'imports' then partner_year.prior_atp_imports_usd
                else partner_year.prior_atp_exports_usd
            end, 0
        )) as contribution_pts

    from product_year
    left join partner_year using (partner_code, year)
    left join partners using (partner_code)
    left join categories using (hitech_code)

)

select * from final
