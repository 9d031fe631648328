{#- On a staged Census hitech flow, for every month that has the U.S. total row and every hitech
    code (including 'TOTAL'): the U.S. total = the sum of the individual countries. Groupings and
    'other' partners (9xxx territories, unknown codes) are left out of the sum.

    Each month and code gets one finding:
    - 'missing component': no U.S. total row for the code, or an empty value cell in the U.S.
      total or in a country. It cannot be reconciled: reported by gaps='any' only;
    - 'material gap': |U.S. total - countries| > tolerance_pct % of the U.S. total AND
      > min_gap_usd dollars;
    - 'gap': any other difference.
    gaps='material' (the default) returns the material gaps only (used at severity error: fails
    the build); gaps='any' returns every finding (used at severity warn). A code with a U.S. total
    but no country row compares with 0.

    Rows come largest gap first; largest_gap_usd repeats the largest |gap| among the returned
    rows on every row (see the stored failures). -#}
{% test us_total_matches_countries(model, tolerance_pct=0.5, min_gap_usd=1000, gaps='material') %}
    with

    us_total as (
        select
            month_start,
            hitech_code,
            true as has_total_row,
            count(*) filter (where value_usd is null)::integer as missing_cells,
            sum(value_usd) as us_total_usd
        from {{ model }}
        where partner_kind = 'total'
        group by all
    ),

    countries as (
        select
            month_start,
            hitech_code,
            count(*) filter (where value_usd is null)::integer as missing_cells,
            sum(value_usd) as countries_usd
        from {{ model }}
        where partner_kind = 'country'
        group by all
    ),

    compared as (
        select
            month_start,
            hitech_code,
            us_total.us_total_usd,
            coalesce(countries.countries_usd, 0) as countries_usd,
            coalesce(us_total.missing_cells, 0) + coalesce(countries.missing_cells, 0)
                as missing_cells,
            us_total.has_total_row is null
                or us_total.missing_cells > 0
                or coalesce(countries.missing_cells, 0) > 0 as unreconcilable
        from us_total
        full outer join countries using (month_start, hitech_code)
        where month_start in (select month_start from us_total)
    ),

    {{ reconciliation_findings(
        'us_total_matches_countries', ['month_start', 'hitech_code'], 'us_total_usd',
        'countries_usd', gaps, tolerance_pct, min_gap_usd
    ) }}
{% endtest %}
