{#- Fails for every group (the `group_by` columns) where the sum of the tested column differs by
    more than `tolerance` from column `field` of the model `to` (one row per group, joined on
    the same columns; `to_where` filters its rows), or where one side is NULL (or absent) and
    the other is not.
    E.g. the ATP groups' contributions (percentage points) of a country-year add up to its ATP
    YoY %. -#}
{% test sums_to(model, column_name, group_by, to, field, to_where=none, tolerance=0.0001) %}
    {%- set keys = group_by | join(', ') %}
    with

    summed as (

        select {{ keys }}, sum({{ column_name }}) as summed
        from {{ model }}
        group by {{ keys }}

    ),

    expected as (

        select {{ keys }}, {{ field }} as expected
        from {{ to }}
        {%- if to_where %}
        where {{ to_where }}
        {%- endif %}

    )

    select *
    from summed
    full outer join expected using ({{ keys }})
    where not coalesce(
        abs(summed - expected) <= {{ tolerance }},
        summed is null and expected is null
    )
{% endtest %}
