-- One row per individual country, ATP group (01-10) and covered month.
with

monthly as (

    select * from {{ ref('int_trade__partner_measure_month') }}
    where partner_kind = 'country' and measure in {{ atp_group_codes() }}

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
        monthly.partner_code,
        partners.partner_name,
        monthly.measure as hitech_code,
        categories.category_name,

        -- time
        monthly.year,
        monthly.month,
        monthly.month_start,

        -- measures, whole dollars
        monthly.imports_usd,
        monthly.exports_usd,
        monthly.balance_usd

    from monthly
    left join partners on monthly.partner_code = partners.partner_code
    left join categories on monthly.measure = categories.hitech_code

)

select * from final
