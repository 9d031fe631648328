-- One row per partner (country, grouping or U.S. total), measure and year.
-- The one place where annual sums, the same-months prior-year base, year-over-year change
-- and shares of the U.S. total are computed; every yearly mart reads them from here.
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
        sum(imports_usd)::bigint as imports_usd,
        sum(exports_usd)::bigint as exports_usd,
        sum(balance_usd)::bigint as balance_usd,
        sum(trade_usd)::bigint as trade_usd
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
        sum(prior.trade_usd)::bigint as trade_usd
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

        -- prior-year base: NULL unless the prior year covers all the months
        -- and the partner has rows in them
        case when covered_years.prior_year_covers_months then prior.imports_usd end
            as prior_imports_usd,
        case when covered_years.prior_year_covers_months then prior.exports_usd end
            as prior_exports_usd,
        case when covered_years.prior_year_covers_months then prior.trade_usd end
            as prior_trade_usd,

        us_total.imports_usd as us_imports_usd,
        us_total.exports_usd as us_exports_usd

    from current_year
    inner join covered_years using (year)
    left join prior_year_same_months as prior using (partner_code, measure, year)
    left join us_total using (measure, year)

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

        -- amounts over the covered months, whole dollars
        imports_usd,
        exports_usd,
        balance_usd,
        trade_usd,

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

    from joined

)

select * from final
