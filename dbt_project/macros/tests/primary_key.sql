{#- A key in one query: fails for every combination of the columns that is NULL in any of them
    or occurs more than once. One test instead of a unique test plus a not_null test per column
    keeps `dbt build` fast at full volume. -#}
{% test primary_key(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
        {%- for column in combination_of_columns %} or {{ column }} is null{% endfor %}
{% endtest %}
