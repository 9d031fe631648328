"""Publish the marts for analysts: a read-only copy that replaces the old one in one step.

The pipeline writes only its working file (ATP_WAREHOUSE). After a run whose loads and tests
all passed, the marts are copied into a new DuckDB file beside ATP_PUBLISHED, which is then
renamed over the old copy. A reader with the old copy open keeps reading it, unchanged (the
rename gives the name to a new file; the old one lives on until its last reader closes it);
the next session opens the new copy. A failed run never gets here, so readers keep the last good
copy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.diskspace import ensure_free_space
from ingest.errors import WarehouseError
from ingest.files import atomic_path, remove_stale_temporaries
from ingest.warehouse import MARTS, connect, mart_tables, sql_string

log = logging.getLogger(__name__)
# A temporary copy last written before this module was loaded (as the process started) is not
# one of ours: a killed publication left it (one another process still writes is locked: kept).
_PROCESS_STARTED = time.time()


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: list[str]
    bytes: int
    newest_month: str | None
    published_at: datetime


def publish(
    warehouse: Path,
    published: Path,
    *,
    min_free_mb: int,
    source_api: str,
    demo: bool = False,
) -> Publication:
    """Copy the marts of `warehouse` into a new file that replaces `published` in one step.
    `source_api` (the API's base URL, which never holds the key) and `demo` are recorded in
    `main.publication`, so every reader can say where the data came from."""
    _remove_leftovers(published)
    with connect(warehouse, read_only=True) as con:
        tables = mart_tables(con)
    if not tables:
        raise WarehouseError(f"{warehouse} has no marts to publish: run `make run` first.")
    # The copy holds the marts only; the working file (raw, history, staging) is an upper bound.
    ensure_free_space(published, warehouse.stat().st_size, min_free_mb, "publish the marts")
    published_at = datetime.now(UTC)
    # Read-only for everyone: writes belong to the working file.
    with atomic_path(published, mode=0o444) as tmp:
        newest_month = _copy_marts(warehouse, tmp, tables)
        with connect(tmp) as con:
            _record_publication(con, warehouse, published_at, newest_month, source_api, demo)
    return Publication(published, tables, published.stat().st_size, newest_month, published_at)


def _remove_leftovers(published: Path) -> None:
    """Free the space of the temporary copies a killed publication left beside `published`."""
    removed = remove_stale_temporaries(published, _PROCESS_STARTED)
    if removed:
        log.info(
            "removed %d temporary file(s) left beside %s by a publication that was killed: %s",
            len(removed),
            published,
            ", ".join(path.name for path in removed),
        )


def _copy_marts(warehouse: Path, target: Path, tables: list[str]) -> str | None:
    """Each mart with its DDL as dbt made it (types, NOT NULL and key constraints of the
    enforced contracts) and its table and column comments (dbt's persist_docs)."""
    with connect(target) as con:
        con.execute(f"ATTACH '{sql_string(str(warehouse))}' AS working (READ_ONLY)")
        con.execute(f"CREATE SCHEMA {MARTS}")
        for table in tables:
            ddl, comment = con.execute(
                "SELECT sql, comment FROM duckdb_tables() "
                "WHERE database_name = 'working' AND schema_name = ? AND table_name = ?",
                [MARTS, table],
            ).fetchone()
            con.execute(ddl)
            con.execute(f"INSERT INTO {MARTS}.{table} SELECT * FROM working.{MARTS}.{table}")
            if comment:
                con.execute(f"COMMENT ON TABLE {MARTS}.{table} IS '{sql_string(comment)}'")
            for column, text in con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = "
                "'working' AND schema_name = ? AND table_name = ? AND comment IS NOT NULL",
                [MARTS, table],
            ).fetchall():
                con.execute(
                    f"COMMENT ON COLUMN {MARTS}.{table}.\"{column}\" IS '{sql_string(text)}'"
                )
        newest = (
            con.execute(
                f"SELECT strftime(max(month_start), '%Y-%m') FROM {MARTS}.fct_atp_trade_monthly"
            ).fetchone()[0]
            if "fct_atp_trade_monthly" in tables
            else None
        )
        con.execute("DETACH working")
    return newest


def _record_publication(
    con, warehouse: Path, published_at: datetime, newest: str | None, source_api: str, demo: bool
) -> None:
    # When, what and from where: readers (and `atp` commands) can say which data they see.
    con.execute(
        """
        CREATE TABLE main.publication AS SELECT
            ?::TIMESTAMP AS published_at, ?::VARCHAR AS newest_month,
            ?::VARCHAR AS source_warehouse, ?::VARCHAR AS source_api, ?::BOOLEAN AS demo
        """,
        [published_at.replace(tzinfo=None), newest, str(warehouse), source_api, demo],
    )
    con.execute("CHECKPOINT")
