"""`atp report`: the top partners table for one year, read-only from the published marts.

No Dagster imports here: the report has to start fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analyst.formats import (
    SOURCE,
    Table,
    bn,
    pct,
    period_and_basis,
    render_tables,
    title_name,
)
from analyst.queries import change, check_flow, records, require_year

US_TOTAL_CODE = "TOTAL"
US_TOTAL_NAME = "United States, all partners"


@dataclass
class TopPartners:
    """The top partners of one year and flow, and the U.S. total line. Row keys: rank,
    partner_code, partner_name, atp_<flow>_usd, atp_<flow>_change_usd, atp_<flow>_yoy_pct,
    atp_<flow>_share_pct, atp_balance_usd (dollars and percent, unrounded)."""

    year: int
    flow: str
    months_covered: int
    partners: list[dict[str, Any]]
    us_total: dict[str, Any]

    @property
    def columns(self) -> list[str]:
        f = self.flow
        return [
            "rank",
            "partner_code",
            "partner_name",
            f"atp_{f}_usd",
            f"atp_{f}_change_usd",
            f"atp_{f}_yoy_pct",
            f"atp_{f}_share_pct",
            "atp_balance_usd",
        ]


def top_partners_data(
    con: duckdb.DuckDBPyConnection, warehouse: Path, year: int, flow: str, top: int
) -> TopPartners:
    check_flow(flow)
    months = require_year(con, warehouse, year)
    us = records(
        con.execute(
            f"""
            SELECT atp_{flow}_usd, atp_{flow}_yoy_pct, atp_balance_usd
            FROM marts.fct_us_atp_year WHERE year = ?
            """,
            [year],
        )
    )[0]
    # Imports have their exact change in the mart; for exports it comes from the YoY %.
    exact_change = "atp_imports_change_usd" if flow == "imports" else "NULL::BIGINT"
    partners = records(
        con.execute(
            f"""
            SELECT atp_{flow}_rank AS rank, partner_code, partner_name, atp_{flow}_usd,
                   {exact_change} AS atp_{flow}_change_usd,
                   atp_{flow}_yoy_pct, atp_{flow}_share_pct, atp_balance_usd
            FROM marts.fct_atp_partner_year
            WHERE year = ?
            ORDER BY atp_{flow}_rank, partner_code
            LIMIT ?
            """,
            [year, top],
        )
    )
    for row in partners:
        if row[f"atp_{flow}_change_usd"] is None:
            row[f"atp_{flow}_change_usd"] = change(
                row[f"atp_{flow}_usd"], row[f"atp_{flow}_yoy_pct"]
            )
    us_total = {
        "rank": None,
        "partner_code": US_TOTAL_CODE,
        "partner_name": US_TOTAL_NAME,
        f"atp_{flow}_usd": us[f"atp_{flow}_usd"],
        f"atp_{flow}_change_usd": change(us[f"atp_{flow}_usd"], us[f"atp_{flow}_yoy_pct"]),
        f"atp_{flow}_yoy_pct": us[f"atp_{flow}_yoy_pct"],
        f"atp_{flow}_share_pct": 100.0,
        "atp_balance_usd": us["atp_balance_usd"],
    }
    return TopPartners(year, flow, months, partners, us_total)


def report_title(data: TopPartners) -> str:
    year, months = data.year, data.months_covered
    period, basis = period_and_basis(year, months)
    noun = (
        "sources of U.S. ATP imports"
        if data.flow == "imports"
        else "destinations of U.S. ATP exports"
    )
    return f"Top {len(data.partners)} {noun}, {year}{period} ({basis}; balance = exports - imports)"


def report_table(data: TopPartners) -> Table:
    """The table: ranked partners, then the U.S. total line."""
    f = data.flow
    rows = [[row[c] for c in data.columns] for row in (*data.partners, data.us_total)]
    display = [
        [
            str(row["rank"]) if row["rank"] is not None else "",
            f"{title_name(row['partner_name'])} ({row['partner_code']})"
            if row["rank"] is not None
            else row["partner_name"],
            bn(row[f"atp_{f}_usd"]),
            bn(row[f"atp_{f}_change_usd"], sign=True),
            pct(row[f"atp_{f}_yoy_pct"]),
            pct(row[f"atp_{f}_share_pct"], sign=False),
            bn(row["atp_balance_usd"], sign=True),
        ]
        for row in (*data.partners, data.us_total)
    ]
    return Table(
        columns=["year", "months_covered", *data.columns],
        rows=[[data.year, data.months_covered, *row] for row in rows],
        title=report_title(data),
        headers=["Rank", "Partner", "ATP $bn", "Change $bn", "YoY %", "Share %", "Balance $bn"],
        display=display,
        left={1},
        total_rows=1,
        notes=[SOURCE],
    )


def render_report(data: TopPartners, fmt: str = "table") -> str:
    """table (aligned text), markdown, csv (one row per partner, then the U.S. total with
    partner_code TOTAL and no rank) or json."""
    table = report_table(data)
    document = {
        "title": table.title,
        "year": data.year,
        "flow": data.flow,
        "months_covered": data.months_covered,
        "partners": data.partners,
        "us_total": data.us_total,
        "source": SOURCE,
    }
    return render_tables([table], fmt, document)
