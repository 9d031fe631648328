{#- On a staged Census hitech flow: for every month that has the U.S. total row and every
    hitech code (including 'TOTAL'), the U.S. total equals the sum of the individual countries
    within tolerance_pct percent of the U.S. total. Groupings are left out of the sum. -#}
{% test us_total_matches_countries(model, tolerance_pct=0.5) %}
    with

    us_total as (
        select month_start, hitech_code, value_usd as us_total_usd
        from {{ model }}
        where partner_kind = 'total'
    ),

    countries as (
        select month_start, hitech_code, sum(value_usd) as countries_usd
        from {{ model }}
        where partner_kind = 'country'
        group by all
    ),

    compared as (
        select
            month_start,
            hitech_code,
            coalesce(us_total_usd, 0) as us_total_usd,
            coalesce(countries_usd, 0) as countries_usd
        from us_total
        full outer join countries using (month_start, hitech_code)
        where month_start in (select month_start from us_total)
    )

    select *
    from compared
    where abs(us_total_usd - countries_usd) > {{ tolerance_pct }} / 100 * abs(us_total_usd)
{% endtest %}
