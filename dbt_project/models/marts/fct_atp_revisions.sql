-- One row per flow, individual country, ATP group (01-10) and month that appears in any stored
-- vintage: the value in the partition's first vintage, the value in its latest vintage, and the
-- revision between the two.
with

history as (

    select * from {{ ref('stg_census__hitech_history') }}

),

vintages as (

    -- one row per vintage (a few per (flow, year) partition): every row of the response counts,
    -- not only the countries' ATP rows
    select flow, year, landing_file, min(fetched_at) as fetched_at
    from history
    group by all

),

ordered_vintages as (

    -- the window runs over the vintages only, never over the history rows
    select
        *,
        row_number() over (
            partition by flow, year order by fetched_at, landing_file
        ) as vintage_number
    from vintages

),

partitions as (

    select
        flow,
        year,
        count(*)::integer as vintages,
        arg_min(landing_file, vintage_number) as first_landing_file,
        min(fetched_at) as first_fetched_at,
        arg_max(landing_file, vintage_number) as latest_landing_file,
        max(fetched_at) as latest_fetched_at
    from ordered_vintages
    group by all

),

country_rows as (

    select flow, year, landing_file, fetched_at, partner_code, partner_name, hitech_code,
        month, month_start, value_usd
    from history
    where partner_kind = 'country' and hitech_code in {{ atp_group_codes() }}

),

keyed as (

    -- one row per key: its value in the first and in the latest vintage of its partition
    select
        country_rows.flow,
        country_rows.partner_code,
        country_rows.hitech_code,
        country_rows.year,
        country_rows.month,
        country_rows.month_start,
        partitions.vintages,
        partitions.first_fetched_at,
        partitions.latest_fetched_at,
        -- a row can be in a vintage with a missing value (NULL): presence and value apart
        bool_or(country_rows.landing_file = partitions.first_landing_file) as in_first,
        bool_or(country_rows.landing_file = partitions.latest_landing_file) as in_latest,
        max(country_rows.value_usd) filter (
            where country_rows.landing_file = partitions.first_landing_file
        ) as first_value_usd,
        max(country_rows.value_usd) filter (
            where country_rows.landing_file = partitions.latest_landing_file
        ) as latest_value_usd
    from country_rows
    inner join partitions using (flow, year)
    group by all

),

measured as (

    select
        *,
        -- NULL when a vintage holds the row with a missing value: no figure to compare
        case
            when not (in_first and first_value_usd is null)
                and not (in_latest and latest_value_usd is null)
                then coalesce(latest_value_usd, 0) - coalesce(first_value_usd, 0)
        end as revision_usd
    from keyed

),

partners as (

    select partner_code, partner_name from {{ ref('dim_partner') }}

),

history_names as (

    -- fallback name for a country no longer in the current data (dropped by a revision):
    -- its name in the latest month it appears in, as dim_partner does
    select
        partner_code,
        display_name(
            arg_max(partner_name, {'month_start': month_start, 'fetched_at': fetched_at})
        ) as partner_name
    from country_rows
    group by all

),

categories as (

    select hitech_code, category_name from {{ ref('dim_atp_category') }}

),

final as (

    select
        -- keys
        measured.flow,
        measured.partner_code,
        coalesce(partners.partner_name, history_names.partner_name) as partner_name,
        measured.hitech_code,
        categories.category_name,

        -- time
        measured.year,
        measured.month,
        measured.month_start,

        -- vintages of the (flow, year) partition
        measured.vintages,

        -- measures, whole dollars
        measured.first_value_usd,
        measured.first_fetched_at,
        measured.latest_value_usd,
        measured.latest_fetched_at,
        measured.revision_usd,
        {{ pct_of('measured.revision_usd', 'measured.first_value_usd') }} as revision_pct,
        case
            when measured.in_first and measured.in_latest
                then case
                    when measured.first_value_usd is not distinct from measured.latest_value_usd
                        then 'unchanged'
                    else 'revised'
                end
            when measured.in_first then 'dropped'
            when measured.in_latest then 'added'
            else 'transient'
        end as revision_status

    from measured
    left join partners on measured.partner_code = partners.partner_code
    left join history_names on measured.partner_code = history_names.partner_code
    left join categories on measured.hitech_code = categories.hitech_code

)

select * from final
