-- One row per individual country, ATP group (01-10) and year: the group's change in dollars
-- against the same months of the year before, and its contribution to the country's ATP
-- year-over-year growth in percentage points (group change / the country's prior-year ATP * 100).
-- The same-months base is int_trade__partner_measure_year's; a group the country did not trade
-- in those months counts from 0, and a group traded then but not this year counts to 0, so the
-- groups' changes add up to the country's ATP change and their contributions to its ATP YoY %.
with

measure_year as (

    select * from {{ ref('int_trade__partner_measure_year') }}
    where partner_kind = 'country'

),

partner_atp as (

    -- the country's ATP: its prior-year value is the denominator of every contribution
    select
        partner_code,
        year,
        months_covered,
        imports_usd as partner_atp_imports_usd,
        exports_usd as partner_atp_exports_usd,
        prior_imports_usd as partner_prior_atp_imports_usd,
        prior_exports_usd as partner_prior_atp_exports_usd
    from measure_year
    where measure = 'ATP'

),

group_year as (

    select
        partner_code,
        measure as hitech_code,
        year,
        imports_usd,
        exports_usd,
        prior_imports_usd,
        prior_exports_usd
    from measure_year
    where measure in {{ atp_group_codes() }}

),

covered_months as (

    select year, month from {{ ref('int_trade__covered_months') }}

),

prior_group_months as (

    select partner_code, measure as hitech_code, year, month, imports_usd, exports_usd
    from {{ ref('int_trade__partner_measure_month') }}
    where partner_kind = 'country' and measure in {{ atp_group_codes() }}

),

dropped_groups as (

    -- groups traded in the prior year's same months but not at all this year: no row in
    -- int_trade__partner_measure_year, so their prior value is summed here (same months as there)
    select
        prior.partner_code,
        prior.hitech_code,
        cur.year,
        0::bigint as imports_usd,
        0::bigint as exports_usd,
        sum(prior.imports_usd)::bigint as prior_imports_usd,
        sum(prior.exports_usd)::bigint as prior_exports_usd
    from covered_months as cur
    inner join prior_group_months as prior
        on prior.year = cur.year - 1 and prior.month = cur.month
    anti join group_year
        on group_year.partner_code = prior.partner_code
        and group_year.hitech_code = prior.hitech_code
        and group_year.year = cur.year
    group by all

),

groups as (

    select * from group_year
    union all by name
    select * from dropped_groups

),

measured as (

    select
        groups.partner_code,
        groups.hitech_code,
        groups.year,
        partner_atp.months_covered,
        groups.imports_usd,
        groups.exports_usd,
        partner_atp.partner_atp_imports_usd,
        partner_atp.partner_atp_exports_usd,
        partner_atp.partner_prior_atp_imports_usd,
        partner_atp.partner_prior_atp_exports_usd,

        -- with a base for the country's ATP, a group without prior rows starts from 0
        case when partner_atp.partner_prior_atp_imports_usd is not null
            then coalesce(groups.prior_imports_usd, 0)
        end as prior_imports_usd,
        case when partner_atp.partner_prior_atp_exports_usd is not null
            then coalesce(groups.prior_exports_usd, 0)
        end as prior_exports_usd

    from groups
    -- a dropped group of a country with no row at all this year has no ATP change to add to
    inner join partner_atp
        on groups.partner_code = partner_atp.partner_code and groups.year = partner_atp.year

),

changed as (

    select
        *,
        -- NULL where the country's ATP change is (no base: prior NULL or 0; or every cell
        -- missing this year); a group whose cells are all missing counts as 0, as the sum
        -- behind the country's ATP skips them
        case when partner_prior_atp_imports_usd <> 0 and partner_atp_imports_usd is not null
            then coalesce(imports_usd, 0) - prior_imports_usd
        end as imports_change_usd,
        case when partner_prior_atp_exports_usd <> 0 and partner_atp_exports_usd is not null
            then coalesce(exports_usd, 0) - prior_exports_usd
        end as exports_change_usd
    from measured

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
        changed.partner_code,
        partners.partner_name,
        changed.hitech_code,
        categories.category_name,
        changed.year,
        changed.months_covered,

        -- imports: the group, then the country's ATP base
        changed.imports_usd,
        changed.prior_imports_usd,
        changed.imports_change_usd,
        {{ yoy_pct('changed.imports_usd', 'changed.prior_imports_usd') }} as imports_yoy_pct,
        {{ pct_of('changed.imports_change_usd', 'changed.partner_prior_atp_imports_usd') }}
            as imports_contribution_pp,
        changed.partner_prior_atp_imports_usd,

        -- exports
        changed.exports_usd,
        changed.prior_exports_usd,
        changed.exports_change_usd,
        {{ yoy_pct('changed.exports_usd', 'changed.prior_exports_usd') }} as exports_yoy_pct,
        {{ pct_of('changed.exports_change_usd', 'changed.partner_prior_atp_exports_usd') }}
            as exports_contribution_pp,
        changed.partner_prior_atp_exports_usd

    from changed
    left join partners on changed.partner_code = partners.partner_code
    left join categories on changed.hitech_code = categories.hitech_code

)

select * from final
