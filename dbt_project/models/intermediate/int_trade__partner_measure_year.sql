-- One row per partner (country, grouping, U.S. total or other), measure and year.
-- The one place where annual sums, the same-months prior-year base, year-over-year change
-- and shares of the U.S. total are computed; every yearly mart reads them from here.
-- Missing values are skipped by the sums and counted; a prior-year base with a missing cell in
-- the flow is no base.
with

monthly as (

    select * from {{ ref('int_trade__partner_measure_month') }}

),

covered_months as (

    select year, month from {{ ref('int_trade__covered_months') }}

),

covered_years as (

    -- a year has a YoY base only if the year before covers every month it covers
    select
        cur.year,
        count(*)::integer as months_covered,
        bool_and(prev.month is not null) as prior_year_covers_months
    from covered_months as cur
    left join covered_months as prev
        on prev.year = cur.year - 1 and prev.month = cur.month
    group by cur.year

),

current_year as (

    select
        partner_code,
        partner_kind,
        measure,
        year,
        -- missing cells skipped (NULL only when every cell is missing) and counted
        sum(imports_usd)::bigint as imports_usd,
        sum(exports_usd)::bigint as exports_usd,
        coalesce(sum(imports_missing_cells), 0)::integer as imports_missing_cells,
        coalesce(sum(exports_missing_cells), 0)::integer as exports_missing_cells
    from monthly
    group by all

),

prior_year_same_months as (

    -- for year Y: the partner's year Y-1 values, over the months that Y covers
    select
        prior.partner_code,
        prior.measure,
        cur.year,
        sum(prior.imports_usd)::bigint as imports_usd,
        sum(prior.exports_usd)::bigint as exports_usd,
        coalesce(sum(prior.imports_missing_cells), 0) as imports_missing_cells,
        coalesce(sum(prior.exports_missing_cells), 0) as exports_missing_cells
    from covered_months as cur
    inner join monthly as prior
        on prior.year = cur.year - 1 and prior.month = cur.month
    group by all

),

us_total as (

    select measure, year, imports_usd, exports_usd
    from current_year
    where partner_kind = 'total'

),

joined as (

    select
        current_year.*,
        covered_years.months_covered,

        -- prior-year base: NULL unless the prior year covers all the months, the partner
        -- has rows in them and none of the flow's cells there is missing (a partial base
        -- would make a spurious change)
        case
            when covered_years.prior_year_covers_months and prior.imports_missing_cells = 0
                then prior.imports_usd
        end as prior_imports_usd,
        case
            when covered_years.prior_year_covers_months and prior.exports_missing_cells = 0
                then prior.exports_usd
        end as prior_exports_usd,

        us_total.imports_usd as us_imports_usd,
        us_total.exports_usd as us_exports_usd

    from current_year
    inner join covered_years using (year)
    left join prior_year_same_months as prior using (partner_code, measure, year)
    left join us_total using (measure, year)

),

based as (

    select
        *,
        exports_usd - imports_usd as balance_usd,
        imports_usd + exports_usd as trade_usd,
        prior_imports_usd + prior_exports_usd as prior_trade_usd
    from joined

),

final as (

    select
        -- keys
        partner_code,
        measure,
        year,

        -- dimensions
        partner_kind,
        months_covered,

        -- amounts over the covered months, whole dollars (missing cells skipped)
        imports_usd,
        exports_usd,
        balance_usd,
        trade_usd,

        -- missing value cells behind imports_usd / exports_usd
        imports_missing_cells,
        exports_missing_cells,

        -- same months of the prior year (NULL without a base)
        prior_imports_usd,
        prior_exports_usd,
        prior_trade_usd,

        -- year over year
        {{ yoy_change('imports_usd', 'prior_imports_usd') }} as imports_change_usd,
        {{ yoy_change('exports_usd', 'prior_exports_usd') }} as exports_change_usd,
        {{ yoy_pct('imports_usd', 'prior_imports_usd') }} as imports_yoy_pct,
        {{ yoy_pct('exports_usd', 'prior_exports_usd') }} as exports_yoy_pct,
        {{ yoy_pct('trade_usd', 'prior_trade_usd') }} as trade_yoy_pct,

        -- share of the U.S. total (same measure, flow, year and months)
        {{ pct_of('imports_usd', 'us_imports_usd') }} as imports_share_pct,
        {{ pct_of('exports_usd', 'us_exports_usd') }} as exports_share_pct

    from based

)

select * from final
