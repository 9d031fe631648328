"""Metadata the Dagster UI shows on the marts: row count, newest month, and for the
partner-year fact a markdown preview of the top 10 partners, so the common question is
answered without SQL."""

from __future__ import annotations

import dagster as dg
import duckdb

from analyst.commands import render_report
from analyst.queries import source_of
from analyst.report_data import latest_full_year, top_partners
from ingest.warehouse import MARTS, mart_tables


def mart_metadata(con: duckdb.DuckDBPyConnection) -> dict[dg.AssetKey, dict]:
    found: dict[dg.AssetKey, dict] = {}
    columns = set(
        con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
            [MARTS],
        ).fetchall()
    )
    for table in mart_tables(con):
        rows = con.execute(f"SELECT count(*) FROM {MARTS}.{table}").fetchone()[0]
        metadata = {"dagster/row_count": dg.MetadataValue.int(rows)}
        newest = _newest_month(con, table, columns)
        if newest:
            metadata["newest_month"] = newest
        found[dg.AssetKey([MARTS, table])] = metadata
    key = dg.AssetKey([MARTS, "fct_atp_partner_year"])
    year = latest_full_year(con) if key in found else None
    if year is not None:
        data = top_partners(con, year, "imports", 10)
        preview = render_report(data, "markdown", source_of(con))
        found[key]["top_10_atp_import_sources"] = dg.MetadataValue.md(preview)
    return found


def _newest_month(con, table: str, columns: set) -> str | None:
    if (table, "month_start") in columns:
        value = con.execute(f"SELECT strftime(max(month_start), '%Y-%m') FROM {MARTS}.{table}")
        return value.fetchone()[0]
    if (table, "months_covered") in columns:
        value = con.execute(f"SELECT max(year * 100 + months_covered) FROM {MARTS}.{table}")
        value = value.fetchone()[0]
        return None if value is None else f"{value // 100}-{value % 100:02d}"
    return None
