-- One row per ATP group, '01'..'10'.
with

categories as (

    select * from {{ ref('atp_categories') }}

),

final as (

    select
        -- keys
        hitech_code::varchar as hitech_code,

        -- dimensions
        category_name::varchar as category_name,
        census_description::varchar as census_description

    from categories

)

select * from final
