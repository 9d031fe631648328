"""`atp report`: the top partners table for one year, read-only from the marts.

No Dagster imports here: the report has to start fast.
"""

from __future__ import annotations

import calendar
from pathlib import Path

from ingest.errors import AtpError
from ingest.warehouse import connect

SOURCE = "Source: U.S. Census Bureau, International Trade API, advanced technology products."


class ReportError(AtpError):
    """The report cannot be produced (missing warehouse, unbuilt marts, unloaded year)."""


def top_partners(warehouse: Path, year: int, flow: str = "imports", top: int = 10) -> str:
    with connect(warehouse, read_only=True) as con:
        if not _has_marts(con):
            raise ReportError(
                f"{warehouse} has no marts: run `make run` (or `make rebuild`) to build and publish them."
            )
        us = con.execute(
            f"""
            SELECT months_covered, atp_{flow}_usd, atp_{flow}_yoy_pct, atp_balance_usd
            FROM marts.fct_us_atp_year WHERE year = ?
            """,
            [year],
        ).fetchall()
        if not us:
            loaded = con.execute(
                "SELECT min(year), max(year) FROM marts.fct_us_atp_year"
            ).fetchall()[0]
            span = f"{loaded[0]}-{loaded[1]}" if loaded[0] is not None else "none"
            raise ReportError(
                f"{year} is not loaded in {warehouse} (years loaded: {span}). "
                "Set ATP_START_YEAR and run `make run` to load it."
            )
        rows = con.execute(
            f"""
            SELECT atp_{flow}_rank, partner_name, partner_code, atp_{flow}_usd,
                   atp_{flow}_yoy_pct, atp_{flow}_share_pct, atp_balance_usd
            FROM marts.fct_atp_partner_year
            WHERE year = ?
            ORDER BY atp_{flow}_rank, partner_code
            LIMIT ?
            """,
            [year, top],
        ).fetchall()
    months, us_value, us_yoy, us_balance = us[0]
    return _format(year, flow, months, rows, us_value, us_yoy, us_balance)


def _has_marts(con) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name IN ('fct_atp_partner_year', 'fct_us_atp_year')"
    ).fetchall()[0][0]
    return found == 2


def _format(year, flow, months, rows, us_value, us_yoy, us_balance) -> str:
    period = "" if months == 12 else f", Jan-{calendar.month_abbr[months]}"
    basis = (
        f"YoY vs the same {months} months of {year - 1}" if months < 12 else f"YoY vs {year - 1}"
    )
    noun = (
        "sources of U.S. ATP imports" if flow == "imports" else "destinations of U.S. ATP exports"
    )
    header = ("Rank", "Partner", "ATP $bn", "Change $bn", "YoY %", "Share %", "Balance $bn")
    table = [header]
    for rank, name, code, value, yoy, share, balance in rows:
        table.append(
            (
                str(rank),
                f"{_title(name)} ({code})",
                _bn(value),
                _bn(_change(value, yoy), sign=True),
                _pct(yoy),
                _pct(share, sign=False),
                _bn(balance, sign=True),
            )
        )
    table.append(
        (
            "",
            "United States, all partners",
            _bn(us_value),
            _bn(_change(us_value, us_yoy), sign=True),
            _pct(us_yoy),
            "100.0",
            _bn(us_balance, sign=True),
        )
    )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [f"Top {len(rows)} {noun}, {year}{period} ({basis}; balance = exports - imports)"]
    for i, row in enumerate(table):
        if i == len(table) - 1:
            lines.append("  ".join("-" * w for w in widths))
        cells = [row[0].rjust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(w) for cell, w in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.append(SOURCE)
    return "\n".join(lines)


def _change(value: int | None, yoy: float | None) -> float | None:
    # The prior same-months value is value / (1 + yoy); only the imports change is a mart column.
    if value is None or yoy is None:
        return None
    return value - value / (1 + yoy / 100)


def _title(name: str) -> str:
    return name.title() if name.isupper() else name


def _bn(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value / 1e9:+,.2f}" if sign else f"{value / 1e9:,.2f}"


def _pct(value: float | None, sign: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.1f}" if sign else f"{value:.1f}"
