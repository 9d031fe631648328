{#- The findings of a reconciliation test, shared by hitech_total_reconciles and
    us_total_matches_countries: `compared` is a CTE of the caller with the columns `keys`, the
    whole and the sum of its parts (named by `whole` and `part`), missing_cells and unreconcilable.
    One finding per row: 'missing component' (unreconcilable), 'material gap' (|whole - part| >
    tolerance_pct % of the whole AND > min_gap_usd) or 'gap' (any other difference).
    gaps='material' returns the material gaps only, gaps='any' every finding; largest gap first,
    with largest_gap_usd on every row. -#}
{% macro reconciliation_findings(test_name, keys, whole, part, gaps, tolerance_pct, min_gap_usd) %}
    {%- if gaps not in ('material', 'any') -%}
        {%- do exceptions.raise_compiler_error(test_name ~ ": gaps must be 'material' or 'any', not " ~ gaps) -%}
    {%- endif %}
    findings as (
        select
            {{ keys | join(', ') }},
            {{ whole }},
            {{ part }},
            missing_cells,
            case when not unreconcilable then {{ whole }} - {{ part }} end as gap_usd,
            case
                when unreconcilable then 'missing component'
                when abs({{ whole }} - {{ part }}) > {{ tolerance_pct }} / 100 * abs({{ whole }})
                    and abs({{ whole }} - {{ part }}) > {{ min_gap_usd }} then 'material gap'
                when {{ whole }} <> {{ part }} then 'gap'
            end as finding
        from compared
    ),

    reported as (
        select *
        from findings
        {% if gaps == 'material' -%}
        where finding = 'material gap'
        {%- else -%}
        where finding is not null
        {%- endif %}
    )

    select
        *,
        round(100 * abs(gap_usd) / nullif(abs({{ whole }}), 0), 4) as gap_pct,
        max(abs(gap_usd)) over () as largest_gap_usd
    from reported
    order by abs(gap_usd) desc nulls last, {{ keys | join(', ') }}
{% endmacro %}
