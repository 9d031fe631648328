"""Fetch U.S. advanced technology trade from the Census API, land it, and load it into DuckDB.

Plain Python: no Dagster or dbt imports here, so every step can run and be tested on its own.
"""
