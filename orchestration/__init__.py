"""Dagster wiring (assets, jobs, checks) and the `atp` command line.

Kept thin: the work itself is in `ingest/` (fetch, land, load) and `dbt_project/` (transform).
"""
