"""The Python functions dbt's SQL calls, registered on every dbt connection as a dbt-duckdb
plugin (`plugins:` in dbt_project/profiles.yml): one implementation for the marts and the
analyst tools, instead of a SQL copy of the naming rules."""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import VARCHAR

from ingest.partner_names import display_name


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        # NULL in, NULL out (DuckDB's default null handling): display_name is never called on it.
        conn.create_function("display_name", display_name, [VARCHAR], VARCHAR, side_effects=False)
