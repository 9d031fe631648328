{#- Metric formulas shared by every model that reports them. Results are DOUBLE, in percent,
    not rounded. -#}

{#- part as a percentage of whole; NULL when whole is NULL or 0. -#}
{% macro pct_of(part, whole) -%}
    (cast({{ part }} as double) * 100 / nullif({{ whole }}, 0))
{%- endmacro %}

{#- current - prior, in dollars; NULL without a base (prior NULL or 0). -#}
{% macro yoy_change(current, prior) -%}
    (case when {{ prior }} <> 0 then {{ current }} - {{ prior }} end)
{%- endmacro %}

{#- (current - prior) / prior * 100; NULL without a base (prior NULL or 0). -#}
{% macro yoy_pct(current, prior) -%}
    (case when {{ prior }} <> 0 then cast({{ current }} - {{ prior }} as double) * 100 / {{ prior }} end)
{%- endmacro %}
