"""The numbers behind each part of the HTML report, read from the published marts.

One function per table or chart; each takes an open DuckDB connection and returns plain Python
data (dicts, lists, floats in $ billions or percent), so the figures can be tested without
drawing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from analyst.queries import check_flow, publication, records, require_year
from ingest.partner_names import display_name

B = 1e9
US_TOTAL_CODE = "TOTAL"
US_TOTAL_NAME = "United States, all partners"
# The marts the report reads: the published copy must hold them all.
MARTS_READ = (
    "fct_atp_partner_year",
    "fct_us_atp_year",
    "fct_atp_partner_category_year",
    "fct_atp_trade_monthly",
    "dim_atp_category",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_span(months: int) -> str:
    """'Jan-Sep' for 9 covered months, 'Jan' for 1."""
    return "Jan" if months == 1 else f"Jan-{MONTHS[months - 1][:3]}"


def data_through(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """(year, month) of the newest month in the marts: the publication record when the file is a
    published copy, otherwise the monthly mart itself."""
    newest = publication(con).get("newest_month")
    if newest is None:
        newest = con.execute(
            "SELECT strftime(max(month_start), '%Y-%m') FROM marts.fct_atp_trade_monthly"
        ).fetchone()[0]
    if newest is None:
        return None
    year, month = newest.split("-")
    return int(year), int(month)


def data_through_label(con: duckdb.DuckDBPyConnection) -> str:
    newest = data_through(con)
    return "no data" if newest is None else f"{MONTHS[newest[1] - 1]} {newest[0]}"


def published_at(con: duckdb.DuckDBPyConnection) -> str | None:
    """When the copy was published (UTC, to the minute), or None for an unpublished warehouse."""
    stamp = publication(con).get("published_at")
    return None if stamp is None else stamp.strftime("%Y-%m-%d %H:%M UTC")


def latest_full_year(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest year with all 12 months, the base of the annual table and charts."""
    return con.execute(
        "SELECT max(year) FROM marts.fct_us_atp_year WHERE months_covered = 12"
    ).fetchone()[0]


@dataclass
class TopPartners:
    """The top partners of one year and flow, and the U.S. total line: the one top-partners
    query behind `atp report` (text, markdown, csv, json), the HTML table and the Dagster
    preview. Row keys: rank, partner_code, partner_name, atp_<flow>_usd,
    atp_<flow>_change_usd, atp_<flow>_yoy_pct, atp_<flow>_share_pct, atp_balance_usd (dollars
    and percent, unrounded, as in the marts)."""

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


def top_partners(
    con: duckdb.DuckDBPyConnection, year: int, flow: str = "imports", top: int = 10
) -> TopPartners:
    check_flow(flow)
    months = require_year(con, year)
    measures = f"atp_{flow}_usd, atp_{flow}_change_usd, atp_{flow}_yoy_pct"
    partners = records(
        con.execute(
            f"""
            SELECT atp_{flow}_rank AS rank, partner_code, partner_name, {measures},
                   atp_{flow}_share_pct, atp_balance_usd
            FROM marts.fct_atp_partner_year
            WHERE year = ?
            ORDER BY atp_{flow}_rank, partner_code
            LIMIT ?
            """,
            [year, top],
        )
    )
    us = records(
        con.execute(
            f"SELECT {measures}, 100.0 AS atp_{flow}_share_pct, atp_balance_usd "
            "FROM marts.fct_us_atp_year WHERE year = ?",
            [year],
        )
    )[0]
    us_total = {"rank": None, "partner_code": US_TOTAL_CODE, "partner_name": US_TOTAL_NAME, **us}
    return TopPartners(year, flow, months, partners, us_total)


def top_sources_history(
    con: duckdb.DuckDBPyConnection, year: int, top: int = 10, leaders: int = 3
) -> dict:
    """ATP imports ($bn) per full year from the first loaded year up to `year`, of each
    top-`top` partner of `year`. `year` in progress is left out (`left_out`: (year, months)):
    9 months against 12 would read as a fall (the year-to-date chart compares it with the same
    months instead). None = no trade that year.

    `highlight`: the codes the chart singles out, the top `leaders` and the biggest mover
    (`mover`: of the others, the largest change in dollars, up or down, from the full year
    before; a partner without trade that year moved from 0)."""
    ranked = con.execute(
        "SELECT partner_code, partner_name FROM marts.fct_atp_partner_year WHERE year = ? "
        "ORDER BY atp_imports_rank, partner_code LIMIT ?",
        [year, top],
    ).fetchall()
    years = [
        y
        for (y,) in con.execute(
            "SELECT year FROM marts.fct_us_atp_year WHERE months_covered = 12 AND year <= ? "
            "ORDER BY year",
            [year],
        ).fetchall()
    ]
    values = {
        (code, y): value
        for code, y, value in con.execute(
            "SELECT partner_code, year, atp_imports_usd / 1e9 FROM marts.fct_atp_partner_year "
            "WHERE months_covered = 12"
        ).fetchall()
    }
    partial = con.execute(
        "SELECT year, months_covered FROM marts.fct_us_atp_year WHERE months_covered < 12 "
        "AND year = ?",
        [year],
    ).fetchone()
    series = [
        {"code": code, "name": display_name(name), "values": [values.get((code, y)) for y in years]}
        for code, name in ranked
    ]
    mover = None
    if len(years) >= 2:
        moves = [
            (abs(change), -i, s)
            for i, s in enumerate(series[leaders:])
            if (change := (s["values"][-1] or 0.0) - (s["values"][-2] or 0.0))
        ]
        if moves:
            moved = max(moves, key=lambda m: m[:2])[2]
            change = (moved["values"][-1] or 0.0) - (moved["values"][-2] or 0.0)
            mover = {"code": moved["code"], "name": moved["name"], "change_bn": change}
    highlight = [s["code"] for s in series[:leaders]] + ([mover["code"]] if mover else [])
    return {
        "years": years,
        "series": series,
        "left_out": partial,
        "highlight": highlight,
        "mover": mover,
    }


def import_shares(con: duckdb.DuckDBPyConnection, year: int, top: int = 3) -> dict:
    """Shares (%) of U.S. ATP imports of the `top` largest sources of `year` and of the rest of
    the world, every loaded year up to `year`. A year in progress is kept (flagged in `months`):
    a share compares the same months, so it is not distorted the way a partial-year total is."""
    years = con.execute(
        "SELECT year, months_covered FROM marts.fct_us_atp_year WHERE year <= ? ORDER BY year",
        [year],
    ).fetchall()
    shares = {
        (code, y): share
        for code, y, share in con.execute(
            "SELECT partner_code, year, atp_imports_share_pct FROM marts.fct_atp_partner_year"
        ).fetchall()
    }
    leaders = con.execute(
        "SELECT partner_code, partner_name FROM marts.fct_atp_partner_year "
        "WHERE year = ? ORDER BY atp_imports_rank, partner_code LIMIT ?",
        [year, top],
    ).fetchall()
    series = [
        {
            "code": code,
            "name": display_name(name),
            "values": [shares.get((code, y)) or 0.0 for y, _ in years],
        }
        for code, name in leaders
    ]
    # The rest is what the leaders leave of the U.S. total (the total row, not the sum of
    # countries).
    rest = [100.0 - sum(s["values"][i] for s in series) for i in range(len(years))]
    series.append({"code": None, "name": "Rest of world", "values": rest})
    return {"years": [y for y, _ in years], "months": [m for _, m in years], "series": series}


def group_mix(con: duckdb.DuckDBPyConnection, year: int, top: int = 5) -> dict:
    """ATP imports ($bn) and share of the partner's ATP imports (%) per ATP group, for the top
    `top` partners of `year` (groups in code order 01-10; a group without rows is 0)."""
    groups = con.execute(
        "SELECT hitech_code, category_name FROM marts.dim_atp_category ORDER BY hitech_code"
    ).fetchall()
    leaders = con.execute(
        "SELECT partner_code, partner_name, atp_imports_usd / 1e9 FROM marts.fct_atp_partner_year "
        "WHERE year = ? ORDER BY atp_imports_rank, partner_code LIMIT ?",
        [year, top],
    ).fetchall()
    cells = {
        (code, group): (value, share)
        for code, group, value, share in con.execute(
            "SELECT partner_code, hitech_code, imports_usd / 1e9, share_of_partner_atp_imports_pct "
            "FROM marts.fct_atp_partner_category_year WHERE year = ?",
            [year],
        ).fetchall()
    }
    partners = []
    for code, name, total in leaders:
        mix = [cells.get((code, group), (0.0, 0.0)) for group, _ in groups]
        partners.append(
            {
                "code": code,
                "name": display_name(name),
                "total_bn": total,
                "values_bn": [value for value, _ in mix],
                "shares_pct": [share or 0.0 for _, share in mix],
            }
        )
    return {
        "year": year,
        "groups": [{"code": code, "name": name} for code, name in groups],
        "partners": partners,
    }


def year_to_date(con: duckdb.DuckDBPyConnection, year: int, top: int = 10) -> dict:
    """`year`'s months against the same months of the year before: ATP imports ($bn) of its
    top-`top` partners (ranked on `year`) and of the U.S. total. The marts hold the same-months
    change and YoY; the prior value is None where they have no base (the year before is not
    loaded, or the partner had no trade then)."""
    months = require_year(con, year)
    measures = "atp_imports_usd / 1e9, atp_imports_change_usd / 1e9, atp_imports_yoy_pct"
    rows = con.execute(
        f"SELECT partner_code, partner_name, {measures} FROM marts.fct_atp_partner_year "
        "WHERE year = ? ORDER BY atp_imports_rank, partner_code LIMIT ?",
        [year, top],
    ).fetchall()
    partners = [
        {"code": code, "name": display_name(name), **_versus(current, change, yoy)}
        for code, name, current, change, yoy in rows
    ]
    us = con.execute(f"SELECT {measures} FROM marts.fct_us_atp_year WHERE year = ?", [year])
    span = month_span(months)
    return {
        "year": year,
        "months": months,
        "label": f"{span} {year} vs {span} {year - 1}",
        "partners": partners,
        "us": _versus(*us.fetchone()),
    }


def _versus(current: float, change: float | None, yoy: float | None) -> dict:
    prior = None if change is None else current - change
    return {"current_bn": current, "prior_bn": prior, "yoy_pct": yoy}


# -- one partner's page (`atp html --partner`, `atp brief --format html`) -------------------------


def partner_t12m(con: duckdb.DuckDBPyConnection, code: str) -> dict:
    """A country's ATP trade over the trailing twelve months, every month that ends a full
    window (`months`: each window's last month as a date; $bn, None where it had no trade in the
    window): its exports to the U.S. (U.S. imports) and its imports from the U.S. (U.S.
    exports)."""
    rows = con.execute(
        "SELECT w.month_start, t.atp_imports_t12m_usd / 1e9, t.atp_exports_t12m_usd / 1e9 "
        "FROM (SELECT DISTINCT month_start FROM marts.fct_atp_partner_t12m) AS w "
        "LEFT JOIN marts.fct_atp_partner_t12m AS t "
        "ON t.month_start = w.month_start AND t.partner_code = ? ORDER BY w.month_start",
        [code],
    ).fetchall()
    return {
        "months": [m for m, _, _ in rows],
        "labels": [f"{MONTHS[m.month - 1][:3]} {m.year}" for m, _, _ in rows],
        "imports_bn": [imports for _, imports, _ in rows],
        "exports_bn": [exports for _, _, exports in rows],
    }


def partner_group_mix(con: duckdb.DuckDBPyConnection, code: str, year: int) -> dict:
    """A country's ATP imports and exports ($bn) per ATP group in `year` (groups in code order
    01-10; a group without rows is 0)."""
    groups = con.execute(
        "SELECT hitech_code, category_name FROM marts.dim_atp_category ORDER BY hitech_code"
    ).fetchall()
    cells = {
        group: (imports, exports)
        for group, imports, exports in con.execute(
            "SELECT hitech_code, coalesce(imports_usd, 0) / 1e9, coalesce(exports_usd, 0) / 1e9 "
            "FROM marts.fct_atp_partner_category_year WHERE partner_code = ? AND year = ?",
            [code, year],
        ).fetchall()
    }
    return {
        "year": year,
        "groups": [{"code": group, "name": name} for group, name in groups],
        "imports_bn": [cells.get(group, (0.0, 0.0))[0] for group, _ in groups],
        "exports_bn": [cells.get(group, (0.0, 0.0))[1] for group, _ in groups],
    }
