-- One row per partner, HITECH code and month with both flows side by side.
-- A flow without a row for that partner, code and month counts as 0; a row whose value cell
-- was empty (a missing value) stays NULL.
with

imports as (

    select * from {{ ref('stg_census__hitech_imports') }}

),

exports as (

    select * from {{ ref('stg_census__hitech_exports') }}

),

joined as (

    select
        -- keys
        partner_code,
        hitech_code,
        month_start,

        -- dimensions
        partner_kind,
        year,
        month,

        -- measures: 0 without a row, NULL for a missing value
        case when imports.partner_code is not null then imports.value_usd else 0 end
            as imports_usd,
        case when exports.partner_code is not null then exports.value_usd else 0 end
            as exports_usd

    from imports
    full outer join exports
        using (partner_code, hitech_code, month_start, partner_kind, year, month)

)

select * from joined
