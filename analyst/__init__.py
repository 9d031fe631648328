"""The analyst's side: queries on the published marts, table formats, the HTML report.

No Dagster imports here: the `atp` commands that use it have to start fast.
"""
