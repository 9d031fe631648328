-- One row per individual country and month M that ends a trailing twelve-month window (M and
-- the 11 months before it all covered): ATP imports and exports over the window, against the
-- window a year earlier, the share of the U.S. total over the same window and the rank among
-- countries. Missing value cells are skipped by the sums and counted, as in the yearly marts; a
-- window a year earlier with a missing cell in the flow is no base.
with

covered_months as (

    select year, month, month_start, year * 12 + month - 1 as month_index
    from {{ ref('int_trade__covered_months') }}

),

windows as (

    -- a covered month ends a window when the 11 months before it are covered too
    select
        cur.month_start,
        cur.year,
        cur.month,
        cur.month_index,
        min(w.month_start) as window_start
    from covered_months as cur
    inner join covered_months as w
        on w.month_index between cur.month_index - 11 and cur.month_index
    group by all
    having count(*) = 12

),

atp_months as (

    select
        partner_code,
        partner_kind,
        year * 12 + month - 1 as month_index,
        imports_usd,
        exports_usd,
        imports_missing_cells,
        exports_missing_cells
    from {{ ref('int_trade__partner_measure_month') }}
    where measure = 'ATP' and partner_kind in ('country', 'total')

),

windowed as (

    -- a partner with any row in the window; a month without a row counts as 0 (no trade)
    select
        atp_months.partner_code,
        atp_months.partner_kind,
        windows.month_start,
        windows.year,
        windows.month,
        windows.month_index,
        windows.window_start,
        sum(atp_months.imports_usd)::bigint as imports_usd,
        sum(atp_months.exports_usd)::bigint as exports_usd,
        coalesce(sum(atp_months.imports_missing_cells), 0)::integer as imports_missing_cells,
        coalesce(sum(atp_months.exports_missing_cells), 0)::integer as exports_missing_cells
    from windows
    inner join atp_months
        on atp_months.month_index between windows.month_index - 11 and windows.month_index
    group by all

),

compared as (

    select
        cur.*,
        -- the window a year earlier: NULL when it is not a full window, the partner has no
        -- row in it or one of the flow's cells in it is missing (a partial base)
        case when prior.imports_missing_cells = 0 then prior.imports_usd end
            as prior_imports_usd,
        case when prior.exports_missing_cells = 0 then prior.exports_usd end
            as prior_exports_usd,
        us.imports_usd as us_imports_usd,
        us.exports_usd as us_exports_usd
    from windowed as cur
    left join windowed as prior
        on prior.partner_code = cur.partner_code
        and prior.month_index = cur.month_index - 12
    left join windowed as us
        on us.partner_kind = 'total'
        and us.month_index = cur.month_index
    where cur.partner_kind = 'country'

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

final as (

    select
        -- keys
        compared.partner_code,
        partners.partner_name,
        compared.month_start,
        compared.year,
        compared.month,
        compared.window_start,

        -- imports over the trailing twelve months
        compared.imports_usd as atp_imports_t12m_usd,
        compared.imports_missing_cells as atp_imports_t12m_missing_cells,
        compared.prior_imports_usd as atp_imports_t12m_prior_usd,
        {{ yoy_change('compared.imports_usd', 'compared.prior_imports_usd') }}
            as atp_imports_t12m_change_usd,
        {{ yoy_pct('compared.imports_usd', 'compared.prior_imports_usd') }}
            as atp_imports_t12m_yoy_pct,
        {{ pct_of('compared.imports_usd', 'compared.us_imports_usd') }}
            as atp_imports_t12m_share_pct,
        case when compared.imports_usd is not null then
            rank() over (
                partition by compared.month_index order by compared.imports_usd desc nulls last
            )::integer
        end as atp_imports_t12m_rank,

        -- exports over the trailing twelve months
        compared.exports_usd as atp_exports_t12m_usd,
        compared.exports_missing_cells as atp_exports_t12m_missing_cells,
        compared.prior_exports_usd as atp_exports_t12m_prior_usd,
        {{ yoy_change('compared.exports_usd', 'compared.prior_exports_usd') }}
            as atp_exports_t12m_change_usd,
        {{ yoy_pct('compared.exports_usd', 'compared.prior_exports_usd') }}
            as atp_exports_t12m_yoy_pct,
        {{ pct_of('compared.exports_usd', 'compared.us_exports_usd') }}
            as atp_exports_t12m_share_pct,
        case when compared.exports_usd is not null then
            rank() over (
                partition by compared.month_index order by compared.exports_usd desc nulls last
            )::integer
        end as atp_exports_t12m_rank

    from compared
    left join partners on compared.partner_code = partners.partner_code

)

select * from final
