"""Publish the marts for analysts: a read-only copy that replaces the old one in one step.

The pipeline writes only its working file (ATP_WAREHOUSE). After a run whose loads and tests
all passed, the marts are copied into a new DuckDB file beside ATP_PUBLISHED, which is then
renamed over the old copy. A reader with the old copy open keeps reading it, unchanged (the
rename gives the name to a new file; the old one lives on until its last reader closes it);
the next session opens the new copy. A failed run never gets here, so readers keep the last good
copy.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.diskspace import ensure_free_space
from ingest.errors import WarehouseError
from ingest.warehouse import MARTS, connect, mart_tables, sql_string


@dataclass(frozen=True)
class Publication:
    path: Path
    tables: list[str]
    bytes: int
    newest_month: str | None
    published_at: datetime


def publish(warehouse: Path, published: Path, *, min_free_mb: int) -> Publication:
    with connect(warehouse, read_only=True) as con:
        tables = mart_tables(con)
    if not tables:
        raise WarehouseError(f"{warehouse} has no marts to publish: run `make run` first.")
    # The copy holds the marts only; the working file (raw, history, staging) is an upper bound.
    ensure_free_space(published, warehouse.stat().st_size, min_free_mb, "publish the marts")
    published.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=published.parent, prefix=f".{published.name}.", suffix=".tmp"
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    published_at = datetime.now(UTC)
    try:
        newest_month = _copy_marts(warehouse, tmp, tables, published_at)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o444)  # a copy for reading: writes belong to the working file
        os.replace(tmp, published)
        _fsync_dir(published.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Publication(published, tables, published.stat().st_size, newest_month, published_at)


def _copy_marts(warehouse: Path, target: Path, tables: list[str], published_at: datetime):
    with connect(target) as con:
        con.execute(f"ATTACH '{sql_string(str(warehouse))}' AS working (READ_ONLY)")
        con.execute(f"CREATE SCHEMA {MARTS}")
        for table in tables:
            con.execute(f"CREATE TABLE {MARTS}.{table} AS SELECT * FROM working.{MARTS}.{table}")
        newest = (
            con.execute(
                f"SELECT strftime(max(month_start), '%Y-%m') FROM {MARTS}.fct_atp_trade_monthly"
            ).fetchall()[0][0]
            if "fct_atp_trade_monthly" in tables
            else None
        )
        # When and what: readers (and `atp` commands) can say which data they are looking at.
        con.execute(
            "CREATE TABLE main.publication AS SELECT ?::TIMESTAMP AS published_at, "
            "?::VARCHAR AS newest_month, ?::VARCHAR AS source_warehouse",
            [published_at.replace(tzinfo=None), newest, str(warehouse)],
        )
        con.execute("DETACH working")
        con.execute("CHECKPOINT")
    return newest


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
