-- One row per individual country, ATP group (01-10) and year.
with

category_year as (

    select * from {{ ref('int_trade__partner_measure_year') }}
    where partner_kind = 'country' and measure in {{ atp_group_codes() }}

),

partner_year as (

    select partner_code, year, atp_imports_usd, atp_exports_usd
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
        category_year.partner_code,
        partners.partner_name,
        category_year.measure as hitech_code,
        categories.category_name,
        category_year.year,
        category_year.months_covered,

        -- amounts over the covered months, whole dollars
        category_year.imports_usd,
        category_year.exports_usd,
        category_year.imports_missing_cells,
        category_year.exports_missing_cells,
        category_year.balance_usd,

        -- year over year
        category_year.imports_change_usd,
        category_year.exports_change_usd,
        category_year.imports_yoy_pct,
        category_year.exports_yoy_pct,

        -- the group's share of the partner's ATP
        {{ pct_of('category_year.imports_usd', 'partner_year.atp_imports_usd') }}
            as share_of_partner_atp_imports_pct,
        {{ pct_of('category_year.exports_usd', 'partner_year.atp_exports_usd') }}
            as share_of_partner_atp_exports_pct,

        -- the partner's share of the group's U.S. total
        category_year.imports_share_pct as share_of_us_category_imports_pct,
        category_year.exports_share_pct as share_of_us_category_exports_pct

    from category_year
    inner join partner_year
        on category_year.partner_code = partner_year.partner_code
        and category_year.year = partner_year.year
    left join partners on category_year.partner_code = partners.partner_code
    left join categories on category_year.measure = categories.hitech_code

)

select * from final
