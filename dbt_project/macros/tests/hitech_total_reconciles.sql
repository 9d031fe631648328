{#- On a staged Census hitech flow: for every partner and month, the all-commodities row
    (hitech_code 'TOTAL') equals 00 + 01..10 to the dollar. A missing row counts as 0, so a
    total without its parts, or parts without their total, fail too. -#}
{% test hitech_total_reconciles(model) %}
    with

    totals as (
        select partner_code, month_start, sum(value_usd) as total_usd
        from {{ model }}
        where hitech_code = 'TOTAL'
        group by all
    ),

    parts as (
        select partner_code, month_start, sum(value_usd) as parts_usd
        from {{ model }}
        where hitech_code <> 'TOTAL'
        group by all
    )

    select
        partner_code,
        month_start,
        total_usd,
        parts_usd
    from totals
    full outer join parts using (partner_code, month_start)
    where coalesce(total_usd, 0) <> coalesce(parts_usd, 0)
{% endtest %}
