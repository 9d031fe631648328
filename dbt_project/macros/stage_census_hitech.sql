{#- The staging query shared by the two flows: the raw tables differ only in their value column
    (GEN_VAL_MO for general imports, ALL_VAL_MO for total exports). `where`, if given, filters the
    raw rows before any work on them (the history's incremental runs: only new vintages). -#}
{% macro stage_census_hitech(table, value_column, where=none) -%}
with

source as (

    select * from {{ source('raw', table) }}
    {%- if where %}
    where {{ where }}
    {%- endif %}

),

renamed as (

    select
        -- keys: codes trimmed, total markers ('-' or '') normalized to 'TOTAL'
        {{ census_code('"CTY_CODE"') }} as partner_code,
        {{ census_code('"HITECH"') }} as hitech_code,
        strptime(trim("time"), '%Y-%m')::date as month_start,

        -- partner
        trim("CTY_NAME") as partner_name,

        -- commodity
        trim("HITECH_DESC") as hitech_description,

        -- measure: whole U.S. dollars; an empty or NULL cell is a missing value (NULL, never
        -- 0). Text that is not a number never gets here: the loader rejects it.
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
        hitech_code,
        month_start,

        -- partner
        partner_name,
        {{ partner_kind('partner_code') }} as partner_kind,

        -- commodity
        hitech_description,

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
