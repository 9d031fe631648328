-- The months a year covers: those for which the U.S. total row (all countries, all
-- commodities) is present in both flows. Annual figures and YoY use these months only.
with

imports_us_total as (

    select year, month, month_start
    from {{ ref('stg_census__hitech_imports') }}
    where partner_code = 'TOTAL' and hitech_code = 'TOTAL'

),

exports_us_total as (

    select year, month, month_start
    from {{ ref('stg_census__hitech_exports') }}
    where partner_code = 'TOTAL' and hitech_code = 'TOTAL'

),

covered as (

    select year, month, month_start
    from imports_us_total
    inner join exports_us_total using (year, month, month_start)

)

select * from covered
