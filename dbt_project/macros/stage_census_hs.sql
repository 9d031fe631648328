{#- The staging query of product detail, shared by the two flows: the raw tables differ in their
    commodity columns (I_COMMODITY / E_COMMODITY) and their value column. Countries and the U.S.
    total row only: the pipeline asks SUMMARY_LVL=DET. -#}
{% macro stage_census_hs(table, commodity_column, value_column) -%}
with

source as (

    select * from {{ source('raw', table) }}

),

renamed as (

    select
        -- keys: the total marker ('-' or '') normalized to 'TOTAL', as for hitech
        {{ census_code('"CTY_CODE"') }} as partner_code,
        trim("{{ commodity_column }}") as commodity_code,
        strptime(trim("time"), '%Y-%m')::date as month_start,

        -- partner
        trim("CTY_NAME") as partner_name,

        -- commodity
        trim("{{ commodity_column }}_SDESC") as commodity_description,

        -- measure: whole U.S. dollars; an empty or NULL cell is a missing value (NULL, never 0)
        cast(nullif(trim("{{ value_column }}"), '') as bigint) as value_usd,

        -- lineage
        "_fetched_at" as fetched_at,
        "_landing_file" as landing_file

    from source

),

final as (

    select
        -- keys
        partner_code,
        commodity_code,
        month_start,

        -- partner
        partner_name,
        {{ partner_kind('partner_code') }} as partner_kind,

        -- commodity
        commodity_description,

        -- time
        year(month_start)::integer as year,
        month(month_start)::integer as month,

        -- measure
        value_usd,

        -- lineage
        fetched_at,
        landing_file

    from renamed

)

select * from final
{%- endmacro %}
