"""The numbers behind each part of the HTML report, read from the published marts.

One function per table or chart; each takes an open DuckDB connection and returns plain Python
data (dicts, lists, floats in $ billions or percent), so the figures can be tested without
drawing anything. No Dagster imports: `atp html` has to start fast.
"""

from __future__ import annotations

import duckdb

from analyst.formats import title_name
from analyst.queries import publication

B = 1e9
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
# The three partners the shares chart follows, by Census code (names can change, codes do not).
SHARE_PARTNERS = (("5700", "China"), ("2010", "Mexico"), ("5830", "Taiwan"))


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


def top_partners(con: duckdb.DuckDBPyConnection, year: int, top: int = 10) -> dict:
    """The table: the top sources of U.S. ATP imports in `year`, and the U.S. total row."""
    rows = con.execute(
        """
        SELECT atp_imports_rank, partner_code, partner_name, atp_imports_usd / 1e9,
               atp_imports_change_usd / 1e9, atp_imports_yoy_pct, atp_imports_share_pct,
               atp_balance_usd / 1e9
        FROM marts.fct_atp_partner_year
        WHERE year = ?
        ORDER BY atp_imports_rank, partner_code
        LIMIT ?
        """,
        [year, top],
    ).fetchall()
    keys = ("rank", "code", "name", "imports_bn", "change_bn", "yoy_pct", "share_pct", "balance_bn")
    partners = [dict(zip(keys, row, strict=True)) for row in rows]
    for partner in partners:
        partner["name"] = title_name(partner["name"])
    months, imports, yoy, balance = con.execute(
        "SELECT months_covered, atp_imports_usd / 1e9, atp_imports_yoy_pct, atp_balance_usd / 1e9 "
        "FROM marts.fct_us_atp_year WHERE year = ?",
        [year],
    ).fetchone()
    # fct_us_atp_year has no change column; the prior same-months value is value / (1 + yoy).
    change = None if yoy is None else imports - imports / (1 + yoy / 100)
    us = {"imports_bn": imports, "change_bn": change, "yoy_pct": yoy, "balance_bn": balance}
    return {"year": year, "months": months, "partners": partners, "us": us}


def top_sources_history(con: duckdb.DuckDBPyConnection, year: int, top: int = 10) -> dict:
    """ATP imports ($bn) per full year since the first loaded year, of each top-`top` partner of
    `year`. A year in progress is left out: 9 months against 12 would read as a fall (the
    year-to-date chart compares it with the same months instead). None = no trade that year."""
    leaders = con.execute(
        "SELECT partner_code, partner_name FROM marts.fct_atp_partner_year WHERE year = ? "
        "ORDER BY atp_imports_rank, partner_code LIMIT ?",
        [year, top],
    ).fetchall()
    years = [
        y
        for (y,) in con.execute(
            "SELECT year FROM marts.fct_us_atp_year WHERE months_covered = 12 ORDER BY year"
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
        "ORDER BY year DESC LIMIT 1"
    ).fetchone()
    series = [
        {"code": code, "name": title_name(name), "values": [values.get((code, y)) for y in years]}
        for code, name in leaders
    ]
    return {"years": years, "series": series, "left_out": partial}


def import_shares(con: duckdb.DuckDBPyConnection) -> dict:
    """Shares (%) of U.S. ATP imports of China, Mexico, Taiwan and the rest of the world, every
    loaded year. A year in progress is kept (flagged in `months`): a share compares the same
    months, so it is not distorted the way a partial-year total is."""
    years = con.execute(
        "SELECT year, months_covered FROM marts.fct_us_atp_year ORDER BY year"
    ).fetchall()
    shares = {
        (code, y): (name, share)
        for code, y, name, share in con.execute(
            "SELECT partner_code, year, partner_name, atp_imports_share_pct "
            "FROM marts.fct_atp_partner_year"
        ).fetchall()
    }
    series = []
    for code, fallback in SHARE_PARTNERS:
        names = [shares[code, y][0] for y, _ in years if (code, y) in shares]
        values = [(shares.get((code, y)) or (None, None))[1] or 0.0 for y, _ in years]
        series.append({"name": title_name(names[-1]) if names else fallback, "values": values})
    # The rest is what the three leave of the U.S. total (the total row, not the sum of countries).
    rest = [100.0 - sum(s["values"][i] for s in series) for i in range(len(years))]
    series.append({"name": "Rest of world", "values": rest})
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
                "name": title_name(name),
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


def year_to_date(con: duckdb.DuckDBPyConnection, top: int = 10) -> dict | None:
    """The newest year's months against the same months of the year before: ATP imports ($bn) of
    its top-`top` partners (ranked on the newest year) and of the U.S. total. The prior values
    are None when the year before is not loaded; None when nothing is loaded at all."""
    newest = con.execute(
        "SELECT year, months_covered FROM marts.fct_us_atp_year ORDER BY year DESC LIMIT 1"
    ).fetchone()
    if newest is None:
        return None
    year, months = newest
    prior_loaded = con.execute(
        "SELECT count(*) FROM marts.fct_us_atp_year WHERE year = ? AND months_covered >= ?",
        [year - 1, months],
    ).fetchone()[0]
    rows = con.execute(
        """
        WITH ytd_months AS (
            SELECT DISTINCT month FROM marts.fct_atp_trade_monthly WHERE year = ?
        ), prior AS (
            SELECT partner_code, sum(imports_usd) AS imports_usd
            FROM marts.fct_atp_trade_monthly
            WHERE year = ? AND month IN (SELECT month FROM ytd_months)
            GROUP BY partner_code
        )
        SELECT p.partner_code, p.partner_name, p.atp_imports_usd / 1e9,
               coalesce(prior.imports_usd, 0) / 1e9
        FROM marts.fct_atp_partner_year p LEFT JOIN prior USING (partner_code)
        WHERE p.year = ?
        ORDER BY p.atp_imports_rank, p.partner_code
        LIMIT ?
        """,
        [year, year - 1, year, top],
    ).fetchall()
    partners = [
        {
            "code": code,
            "name": title_name(name),
            "current_bn": current,
            "prior_bn": prior if prior_loaded else None,
            "yoy_pct": _yoy(current, prior) if prior_loaded else None,
        }
        for code, name, current, prior in rows
    ]
    current, yoy = con.execute(
        "SELECT atp_imports_usd / 1e9, atp_imports_yoy_pct FROM marts.fct_us_atp_year "
        "WHERE year = ?",
        [year],
    ).fetchone()
    prior = None if yoy is None else current / (1 + yoy / 100)
    span = month_span(months)
    return {
        "year": year,
        "months": months,
        "label": f"{span} {year} vs {span} {year - 1}",
        "partners": partners,
        "us": {"current_bn": current, "prior_bn": prior, "yoy_pct": yoy},
    }


def _yoy(current: float, prior: float) -> float | None:
    return None if not prior else (current - prior) / prior * 100
