"""Metadata the Dagster UI shows on the marts after a dbt build: row count, newest month, and
for the partner-year fact a markdown preview of the top 10 partners, so the common question is
answered without SQL. Read after dbt has finished (DuckDB allows one writer process)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingest.warehouse import MARTS, connect, mart_tables
from analyst.report_data import latest_full_year
from orchestration.report import render_report, top_partners_data


def mart_metadata(warehouse: Path) -> dict[dg.AssetKey, dict]:
    found: dict[dg.AssetKey, dict] = {}
    with connect(warehouse, read_only=True) as con:
        tables = mart_tables(con)
        columns = {
            (table, column)
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = ?",
                [MARTS],
            ).fetchall()
        }
        for table in tables:
            rows = con.execute(f"SELECT count(*) FROM {MARTS}.{table}").fetchall()[0][0]
            metadata = {"dagster/row_count": dg.MetadataValue.int(rows)}
            newest = _newest_month(con, table, columns)
            if newest:
                metadata["newest_month"] = newest
            found[dg.AssetKey([MARTS, table])] = metadata
        key = dg.AssetKey([MARTS, "fct_atp_partner_year"])
        year = latest_full_year(con) if key in found else None
        if year is not None:
            data = top_partners_data(con, warehouse, year, "imports", 10)
            found[key]["top_10_atp_import_sources"] = dg.MetadataValue.md(
                render_report(data, "markdown")
            )
    return found


def _newest_month(con, table: str, columns: set) -> str | None:
    if (table, "month_start") in columns:
        value = con.execute(f"SELECT strftime(max(month_start), '%Y-%m') FROM {MARTS}.{table}")
        return value.fetchall()[0][0]
    if (table, "months_covered") in columns:
        value = con.execute(
            f"SELECT max(year * 100 + months_covered) FROM {MARTS}.{table}"
        ).fetchall()[0][0]
        return None if value is None else f"{value // 100}-{value % 100:02d}"
    return None
