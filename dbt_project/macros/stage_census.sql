{#- The staging query of every raw Census table: the flows differ in their value column (GEN_VAL_MO
    for general imports, ALL_VAL_MO for total exports), the datasets in their item columns
    (hitech: HITECH and HITECH_DESC, staged as hitech_code and hitech_description; product
    detail: I_COMMODITY / E_COMMODITY and their _SDESC, staged as commodity_code and
    commodity_description). `where`, if given, filters the raw rows before any work on them (the
    history's incremental runs: only new vintages). -#}
{% macro stage_census(
    table, value_column, item='HITECH', description='HITECH_DESC', item_name='hitech', where=none
) -%}
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
        {{ census_code('"' ~ item ~ '"') }} as {{ item_name }}_code,
        strptime(trim("time"), '%Y-%m')::date as month_start,

        -- partner
        trim("CTY_NAME") as partner_name,

        -- commodity
        trim("{{ description }}") as {{ item_name }}_description,

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
        {{ item_name }}_code,
        month_start,

        -- partner
        partner_name,
        {{ partner_kind('partner_code') }} as partner_kind,

        -- commodity
        {{ item_name }}_description,

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
