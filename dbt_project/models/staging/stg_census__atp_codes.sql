-- One row per flow, year and 10-digit code on that year's ATP code list: which ATP group the code
-- belongs to.
with

source as (

    select * from {{ source('raw', 'atp_codes') }}

),

final as (

    select
        -- keys
        flow,
        year,
        trim(commodity_code) as commodity_code,

        -- the code
        left(trim(commodity_code), 6) as hs6_code,
        trim(atp_group) as hitech_code,
        trim(description) as commodity_description,

        -- lineage
        _fetched_at as fetched_at,
        _landing_file as landing_file

    from source

)

select * from final
