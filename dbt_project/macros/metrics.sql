{#- Metric formulas shared by every model that reports them. Results are DOUBLE, in percent,
    not rounded. -#}

{#- part as a percentage of whole; NULL when whole is NULL or 0. -#}
{% macro pct_of(part, whole) -%}
    (cast({{ part }} as double) * 100 / nullif({{ whole }}, 0))
{%- endmacro %}

{#- current - prior, in dollars; NULL without a base (prior NULL or 0). -#}
{% macro yoy_change(current, prior) -%}
    (case when ({{ prior }}) <> 0 then ({{ current }}) - ({{ prior }}) end)
{%- endmacro %}

{#- (current - prior) / prior * 100; NULL without a base (prior NULL or 0). -#}
{% macro yoy_pct(current, prior) -%}
    (case when ({{ prior }}) <> 0 then cast(({{ current }}) - ({{ prior }}) as double) * 100 / ({{ prior }}) end)
{%- endmacro %}

{#- Missing values: an empty value cell is NULL in staging and stays NULL (never 0). -#}

{#- Sum of column over the rows where condition holds, skipping missing (NULL) cells: 0 when no
    row matches, NULL when every matching cell is missing. For an aggregate query. -#}
{% macro sum_reported(column, condition='true') -%}
    coalesce(
        sum({{ column }}) filter (where ({{ condition }})),
        case when count(*) filter (where ({{ condition }}) and {{ column }} is null) = 0 then 0 end
    )::bigint
{%- endmacro %}

{#- The number of missing (NULL) cells of column among the rows where condition holds
    (INTEGER). For an aggregate query. -#}
{% macro count_missing(column, condition='true') -%}
    (count(*) filter (where ({{ condition }}) and {{ column }} is null))::integer
{%- endmacro %}
