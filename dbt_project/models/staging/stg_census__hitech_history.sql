-- One row per vintage, partner, HITECH code and month, both flows: every stored Census response
-- (vintage = one fetch of a (flow, year) partition, identified by landing_file), typed and cleaned
-- by the same macro as the current-data staging models.
-- Incremental: a stored vintage never changes, so a run stages only the vintages it has not seen
-- (a refresh's few, not the whole history). `atp rebuild` (dbt --full-refresh) restages them all.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}
{%- set new_vintages = none %}
{%- if is_incremental() %}
    {%- set new_vintages = '"_landing_file" not in (select distinct landing_file from ' ~ this ~ ')' %}
{%- endif %}

with

imports as (

    {{ stage_census('census_hitech_imports_history', 'GEN_VAL_MO', where=new_vintages) }}

),

exports as (

    {{ stage_census('census_hitech_exports_history', 'ALL_VAL_MO', where=new_vintages) }}

),

final as (

    select 'imports' as flow, * from imports
    union all
    select 'exports' as flow, * from exports

)

select * from final
