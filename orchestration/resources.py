"""The project's resources. The settings are one plain object (`ingest.settings.Settings`, read
from the environment where the definitions are built), handed to every asset, check, sensor and
the schedule as `dg.ResourceParam[Settings]`: no configuration schema, so no secret (the API
key, the webhook URL, the SMTP password) can reach run config, metadata or the UI."""

from __future__ import annotations

from dagster_duckdb import DuckDBResource

from ingest.settings import Settings
from ingest.warehouse import DUCKDB_CONFIG


def warehouse_resource(settings: Settings) -> DuckDBResource:
    """The working warehouse, for the steps that read it once dbt has exited."""
    return DuckDBResource(database=str(settings.warehouse), connection_config=DUCKDB_CONFIG)
