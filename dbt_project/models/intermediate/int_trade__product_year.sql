-- One row per flow, country, 10-digit code and year, for the codes on that year's ATP code list:
-- the value over the year's covered months, and the same months of the year before.
-- Census leaves out zero trade, so a product without a row is 0; a prior-year base exists only
-- when the year before has product detail for every covered month (else it is NULL, no base).
with

products_monthly as (

    select 'imports' as flow, partner_code, partner_kind, commodity_code, year, month, value_usd
    from {{ ref('stg_census__hs_imports') }}
    union all
    select 'exports' as flow, partner_code, partner_kind, commodity_code, year, month, value_usd
    from {{ ref('stg_census__hs_exports') }}

),

codes as (

    select flow, year, commodity_code, hs6_code, hitech_code, commodity_description
    from {{ ref('stg_census__atp_codes') }}

),

covered_months as (

    select year, month from {{ ref('int_trade__covered_months') }}

),

product_months as (

    -- the months that have product detail, by flow
    select distinct flow, year, month from products_monthly

),

covered_years as (

    -- per flow and year: the months covered, and whether the year before has product detail
    -- in every one of them
    select
        lists.flow,
        cur.year,
        count(*)::integer as months_covered,
        bool_and(prev.month is not null) as prior_year_has_months
    from covered_months as cur
    inner join (select distinct flow, year from codes) as lists on lists.year = cur.year
    left join product_months as prev
        on prev.flow = lists.flow and prev.year = cur.year - 1 and prev.month = cur.month
    group by all

),

countries as (

    select * from products_monthly where partner_kind = 'country'

),

current_year as (

    select
        flow,
        partner_code,
        commodity_code,
        year,
        sum(value_usd)::bigint as value_usd,
        count(*) filter (where value_usd is null)::integer as missing_cells
    from countries
    inner join covered_months using (year, month)
    group by all

),

prior_year as (

    -- for year Y: the product's year Y-1 values, over the months that Y covers
    select
        prior.flow,
        prior.partner_code,
        prior.commodity_code,
        cur.year,
        sum(prior.value_usd)::bigint as value_usd,
        count(*) filter (where prior.value_usd is null)::integer as missing_cells
    from covered_months as cur
    inner join countries as prior on prior.year = cur.year - 1 and prior.month = cur.month
    group by all

),

product_keys as (

    select flow, partner_code, commodity_code, year from current_year
    union
    select flow, partner_code, commodity_code, year from prior_year

),

final as (

    select
        -- keys
        product_keys.flow,
        product_keys.partner_code,
        product_keys.commodity_code,
        product_keys.year,

        -- the code on the year's list
        codes.hs6_code,
        codes.hitech_code,
        codes.commodity_description,

        -- the year
        covered_years.months_covered,
        coalesce(current_year.value_usd, 0)::bigint as value_usd,
        coalesce(current_year.missing_cells, 0)::integer as missing_cells,
        case
            when covered_years.prior_year_has_months and coalesce(prior_year.missing_cells, 0) = 0
                then coalesce(prior_year.value_usd, 0)
        end::bigint as prior_value_usd

    from product_keys
    inner join codes using (flow, year, commodity_code)
    inner join covered_years using (flow, year)
    left join current_year using (flow, partner_code, commodity_code, year)
    left join prior_year using (flow, partner_code, commodity_code, year)

)

select * from final
