{#- On a staged Census hitech flow, per partner and month: the all-commodities row (hitech_code
    'TOTAL') = the sum of the other rows ('00' + '01'..'10', and any code Census adds: the
    identity holds for the whole partition whatever its parts; ATP stays 01-10).

    Each partner-month gets one finding:
    - 'missing component': no total row, no part rows, or an empty value cell among them. It
      cannot be reconciled: reported by gaps='any', never by gaps='material';
    - 'material gap': |total - parts| > tolerance_pct % of the total AND > min_gap_usd dollars;
    - 'gap': any other difference, e.g. a revision's rounding of $1 to $11.
    gaps='material' (the default) returns the material gaps only: used at severity error, it fails
    the build. gaps='any' returns every finding: used at severity warn. A missing part row (Census
    sends none for a group) counts as 0, as in the marts.

    Rows come largest gap first; largest_gap_usd repeats the largest |gap| among the returned
    rows on every row, so the stored failures (store_failures) say it in their first line. -#}
{% test hitech_total_reconciles(model, gaps='material', tolerance_pct=0.1, min_gap_usd=1000) %}
    with

    partner_months as (
        select
            partner_code,
            month_start,
            count(*) filter (where hitech_code = 'TOTAL') as total_rows,
            count(*) filter (where hitech_code <> 'TOTAL') as part_rows,
            count(*) filter (where value_usd is null)::integer as missing_cells,
            sum(value_usd) filter (where hitech_code = 'TOTAL') as total_usd,
            sum(value_usd) filter (where hitech_code <> 'TOTAL') as parts_usd
        from {{ model }}
        group by all
    ),

    compared as (
        select
            *,
            total_rows = 0 or part_rows = 0 or missing_cells > 0 as unreconcilable
        from partner_months
    ),

    {{ reconciliation_findings(
        'hitech_total_reconciles', ['partner_code', 'month_start'], 'total_usd', 'parts_usd',
        gaps, tolerance_pct, min_gap_usd
    ) }}
{% endtest %}
