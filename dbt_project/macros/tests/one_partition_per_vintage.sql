{#- On staged history: every vintage (landing_file) belongs to one flow and one year and has one
    fetch time. Fails for every vintage that does not. fct_atp_revisions relies on it to order the
    vintages of a partition by fetch time. -#}
{% test one_partition_per_vintage(model) %}
    select
        landing_file,
        count(distinct flow) as n_flows,
        count(distinct year) as n_years,
        count(distinct fetched_at) as n_fetch_times
    from {{ model }}
    group by landing_file
    having count(distinct flow) > 1
        or count(distinct year) > 1
        or count(distinct fetched_at) > 1
        or count(fetched_at) < count(*)
{% endtest %}
