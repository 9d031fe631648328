-- One row per year, flow, individual country and ATP group, for the flow-years that have product
-- detail (an ATP code list): the group's hitech value beside the sum of its products. On the
-- live API the list defines the groups, so coverage should be 100%; a gap is a broken join, a
-- list that does not match the data, or products the plan did not fetch.
with

hitech as (

    select
        partner_code,
        hitech_code,
        year,
        imports_usd,
        exports_usd
    from {{ ref('fct_atp_partner_category_year') }}

),

lists as (

    select distinct flow, year from {{ ref('stg_census__atp_codes') }}

),

products as (

    select flow, partner_code, atp_group_code as hitech_code, year, sum(value_usd)::bigint as products_usd
    from {{ ref('fct_atp_product_year') }}
    group by all

),

hitech_by_flow as (

    select 'imports' as flow, partner_code, hitech_code, year, imports_usd as hitech_usd from hitech
    union all
    select 'exports' as flow, partner_code, hitech_code, year, exports_usd as hitech_usd from hitech

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
        hitech_by_flow.year,
        hitech_by_flow.flow,
        hitech_by_flow.partner_code,
        partners.partner_name,
        hitech_by_flow.hitech_code as atp_group_code,
        categories.category_name as atp_group_name,

        -- amounts over the covered months, whole dollars
        hitech_by_flow.hitech_usd,
        coalesce(products.products_usd, 0)::bigint as products_usd,
        (hitech_by_flow.hitech_usd - coalesce(products.products_usd, 0))::bigint as gap_usd,
        {{ pct_of('coalesce(products.products_usd, 0)', 'hitech_by_flow.hitech_usd') }}
            as coverage_pct

    from hitech_by_flow
    inner join lists using (flow, year)
    left join products using (flow, partner_code, hitech_code, year)
    left join partners using (partner_code)
    left join categories using (hitech_code)

)

select * from final
