-- One row per partner, HITECH code and month with both flows side by side.
-- A flow without a row for that partner, code and month counts as 0.
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

        -- measures
        coalesce(imports.value_usd, 0) as imports_usd,
        coalesce(exports.value_usd, 0) as exports_usd

    from imports
    full outer join exports
        using (partner_code, hitech_code, month_start, partner_kind, year, month)

)

select * from joined
