-- One row per partner code seen in either flow: countries, groupings and the U.S. total.
with

imports as (

    select partner_code, partner_name, partner_kind, year, month_start, fetched_at
    from {{ ref('stg_census__hitech_imports') }}

),

exports as (

    select partner_code, partner_name, partner_kind, year, month_start, fetched_at
    from {{ ref('stg_census__hitech_exports') }}

),

partner_rows as (

    select * from imports
    union all
    select * from exports

),

latest_names as (

    -- the name in the latest month the code appears, so a renamed partner keeps one name
    select partner_code, partner_name
    from partner_rows
    qualify row_number() over (
        partition by partner_code
        order by month_start desc, fetched_at desc nulls last, partner_name
    ) = 1

),

partner_years as (

    select
        partner_code,
        partner_kind,
        min(year) as first_year,
        max(year) as last_year
    from partner_rows
    group by all

),

final as (

    select
        -- keys
        partner_code,

        -- dimensions
        -- the everyday spelling (Korea, South), one rule with the analyst tools; Census's own
        -- upper-case spelling kept beside it
        display_name(latest_names.partner_name) as partner_name,
        latest_names.partner_name as census_partner_name,
        partner_kind,
        case when partner_kind = 'country' then
            case left(partner_code, 1)
                when '1' then 'North America'
                when '2' then 'Mexico, Central America and Caribbean'
                when '3' then 'South America'
                when '4' then 'Europe'
                when '5' then 'Asia'
                when '6' then 'Australia and Oceania'
                when '7' then 'Africa'
            end
        end as region,

        -- coverage
        first_year,
        last_year

    from partner_years
    inner join latest_names using (partner_code)

)

select * from final
