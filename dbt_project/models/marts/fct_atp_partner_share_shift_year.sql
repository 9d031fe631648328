-- One row per individual country and year: its share of U.S. ATP imports and exports, the share
-- over the same months of the year before and the shift between the two in percentage points.
with

atp_year as (

    select * from {{ ref('int_trade__partner_measure_year') }}
    where measure = 'ATP'

),

countries as (

    select * from atp_year where partner_kind = 'country'

),

us_total as (

    select
        year,
        prior_imports_usd as us_prior_imports_usd,
        prior_exports_usd as us_prior_exports_usd
    from atp_year
    where partner_kind = 'total'

),

shares as (

    select
        countries.partner_code,
        countries.year,
        countries.months_covered,
        countries.imports_share_pct,
        countries.exports_share_pct,
        -- the same months of the year before, over the U.S. total of those months (NULL without
        -- a base for the country, as its YoY)
        {{ pct_of('countries.prior_imports_usd', 'us_total.us_prior_imports_usd') }}
            as prior_imports_share_pct,
        {{ pct_of('countries.prior_exports_usd', 'us_total.us_prior_exports_usd') }}
            as prior_exports_share_pct
    from countries
    left join us_total using (year)

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

final as (

    select
        -- keys
        shares.partner_code,
        partners.partner_name,
        shares.year,
        shares.months_covered,

        -- imports
        shares.imports_share_pct as atp_imports_share_pct,
        shares.prior_imports_share_pct as atp_imports_prior_share_pct,
        shares.imports_share_pct - shares.prior_imports_share_pct as atp_imports_share_shift_pp,

        -- exports
        shares.exports_share_pct as atp_exports_share_pct,
        shares.prior_exports_share_pct as atp_exports_prior_share_pct,
        shares.exports_share_pct - shares.prior_exports_share_pct as atp_exports_share_shift_pp

    from shares
    left join partners on shares.partner_code = partners.partner_code

)

select * from final
