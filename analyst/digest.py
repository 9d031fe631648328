"""`atp digest`: what the latest publication brought, from the published marts only.

- which months arrived or were revised: in the vintages fetched since the previous publication
  (marts.fct_atp_revisions; the digest written for that publication beside the copy says when it
  was, else the freshness record says when the latest run that changed the data started);
- the newest month's U.S. ATP imports and exports against the same month a year before, and the
  year to date (marts.fct_atp_trade_monthly, marts.fct_us_atp_year);
- the partners that moved most, year to date against the same months of the year before
  (marts.fct_atp_partner_year), and the largest revisions.

`digest` reads the figures into a `Digest`; `render` gives markdown, html (one self-contained
page), json (whole dollars, unrounded percent) or a few lines of text (a webhook post's body);
`write_digest` writes the first three beside the published copy for the pipeline.

What the copy cannot tell: fct_atp_revisions compares the first stored vintage of a (flow, year)
with the latest one. With three or more vintages, a month that arrived or was revised by an
earlier publication counts again when a later one changes its year, and a revision's amount is
since the first vintage, not since the previous publication. Telling them apart exactly needs the
value in the vintage before the latest (or every vintage's value) in the published copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from analyst.brief import period
from analyst.formats import (
    Table,
    is_census,
    json_value,
    money,
    money_unit,
    money_words,
    pct,
    plural,
    render_json,
    render_markdown,
    source_line,
)
from analyst.queries import FLOWS, open_published, publication, records
from analyst.report_data import MONTHS, month_span
from ingest.errors import AtpError
from ingest.files import write_atomic
from ingest.freshness import read_freshness
from ingest.partner_names import display_name
from ingest.settings import Settings
from ingest.warehouse import MARTS, mart_tables

FORMATS = ("markdown", "html", "json", "text")
TOP = 5
# The marts a digest reads; fct_atp_revisions is optional (a copy from before it existed).
DIGEST_MARTS = ("fct_atp_trade_monthly", "fct_us_atp_year", "fct_atp_partner_year")


# -- the data -----------------------------------------------------------------------------------


@dataclass
class Digest:
    """The figures of one digest, as the marts hold them (whole dollars, unrounded percent)."""

    published: dict[str, Any]  # main.publication
    newest: str | None  # the newest month held, 'YYYY-MM'; None for an empty copy
    months_covered: int | None  # of the newest year (its year to date)
    # Months that arrived or were revised: {flow, month 'YYYY-MM', status, vintages, revision_usd};
    # None when the copy has no fct_atp_revisions.
    changes: list[dict[str, Any]] | None
    since: datetime | None  # `changes` and `revisions` are of the vintages fetched after it
    basis: str  # where `since` comes from, in words
    us_month: dict[str, dict[str, Any]]  # flow -> the newest month and the same month a year before
    us_ytd: dict[str, Any] | None  # the newest year's fct_us_atp_year row
    movers: dict[str, list[dict[str, Any]]]  # flow -> fct_atp_partner_year rows, largest move first
    revisions: list[dict[str, Any]]  # by partner, flow and month, largest first

    @property
    def year(self) -> int | None:
        return int(self.newest[:4]) if self.newest else None

    @property
    def source(self) -> str:
        return source_line(self.published)

    @property
    def subject(self) -> str:
        """A one-line title (an e-mail subject, a post's first line)."""
        if not self.newest:
            return "ATP digest: no data published yet"
        what = []
        for status in ("arrived", "revised"):
            months = sorted({c["month"] for c in self.changes or [] if c["status"] == status})
            if months:
                what.append(
                    f"{months[0] if len(months) == 1 else plural(len(months), 'month')} {status}"
                )
        demo = " (demo data)" if self.published.get("demo") else ""
        tail = f": {', '.join(what)}" if what else ""
        return f"ATP digest, data through {month_name(self.newest)}{tail}{demo}"


def digest(settings: Settings) -> Digest:
    """The digest of the published copy (ATP_PUBLISHED), read-only."""
    with open_published(settings.published, required=DIGEST_MARTS) as con:
        record = publication(con)
        since, basis = changes_since(settings, record.get("published_at"))
        return load_digest(con, since, basis)


def load_digest(
    con: duckdb.DuckDBPyConnection, since: datetime | None = None, basis: str = ""
) -> Digest:
    """The digest of the copy open on `con`: what the vintages fetched after `since` (naive UTC;
    None: every stored vintage) brought; `basis` says where `since` comes from."""
    published = publication(con)
    newest = (
        published.get("newest_month")
        or con.execute(
            f"SELECT strftime(max(month_start), '%Y-%m') FROM {MARTS}.fct_atp_trade_monthly"
        ).fetchone()[0]
    )
    has_revisions = "fct_atp_revisions" in mart_tables(con)
    found = Digest(
        published=published,
        newest=newest,
        months_covered=None,
        changes=month_changes(con, since) if has_revisions else None,
        since=since,
        basis=basis or EVERY_VINTAGE,
        us_month={},
        us_ytd=None,
        movers={},
        revisions=largest_revisions(con, since) if has_revisions else [],
    )
    if newest is None:
        return found
    year, month = int(newest[:4]), int(newest[5:7])
    found.us_month = us_month(con, year, month)
    found.us_ytd = _one(con, f"SELECT * FROM {MARTS}.fct_us_atp_year WHERE year = ?", year)
    found.months_covered = found.us_ytd["months_covered"] if found.us_ytd else None
    found.movers = {flow: movers(con, year, flow) for flow in FLOWS}
    return found


EVERY_VINTAGE = "at any time (nothing beside the copy says when this publication's news starts)"


def changes_since(settings: Settings, published_at: datetime | None) -> tuple[datetime | None, str]:
    """Where this publication's news starts (naive UTC, as the marts keep fetch times) and why:
    the vintages fetched after it are new to this copy.
    1. The previous publication, from the digest written for it beside the copy: exact.
    2. Else the start of the latest run that changed the data (the freshness record): misses
       the changes of an earlier run whose build failed.
    3. Else None: every stored vintage."""
    before = _stored_digest(settings)
    stamp = _time(before.get("published_at"))
    if published_at and stamp and stamp == published_at:  # this copy's own digest
        return _time(before.get("changes", {}).get("since")), before["changes"].get("basis", "")
    if published_at and stamp and stamp < published_at:
        return stamp, f"since the previous publication ({stamp:%Y-%m-%d %H:%M} UTC)"
    try:
        changed = read_freshness(settings.published).last_changed
    except AtpError:
        changed = None
    if changed is not None:
        changed = changed.astimezone(UTC).replace(tzinfo=None)
        if published_at is None or changed <= published_at:
            when = f"{changed:%Y-%m-%d %H:%M} UTC"
            return changed, f"since the latest run that changed the data started ({when})"
    return None, EVERY_VINTAGE


def _stored_digest(settings: Settings) -> dict[str, Any]:
    """The JSON digest beside the copy (written for this publication or the one before), or {}."""
    try:
        found = json.loads(digest_paths(settings)["json"].read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) and isinstance(found.get("changes"), dict) else {}


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def month_changes(con: duckdb.DuckDBPyConnection, since: datetime | None) -> list[dict[str, Any]]:
    """Per flow and month of the (flow, year) partitions the latest run changed (latest vintage
    fetched after `since`): 'arrived' (in the latest vintage, and not in the first one, or
    the year has one vintage) or 'revised' (in the first vintage, a country or group's value
    changed, appeared or went; revision_usd is their net sum)."""
    return records(
        con.execute(
            f"""
            WITH months AS (
                SELECT flow, year, month, max(vintages) AS vintages,
                       bool_or(revision_status IN ('unchanged', 'revised', 'dropped')) AS in_first,
                       bool_or(revision_status IN ('unchanged', 'revised', 'added')) AS in_latest,
                       count(*) FILTER (WHERE revision_status IN ('revised', 'dropped', 'added'))
                           AS rows_changed,
                       sum(revision_usd) AS revision_usd
                FROM {MARTS}.fct_atp_revisions
                WHERE ?::TIMESTAMP IS NULL OR latest_fetched_at > ?::TIMESTAMP
                GROUP BY ALL
            ),
            classified AS (
                SELECT *, CASE
                    WHEN in_latest AND (vintages = 1 OR NOT in_first) THEN 'arrived'
                    WHEN in_first AND rows_changed > 0 THEN 'revised'
                END AS status
                FROM months
            )
            SELECT flow, printf('%04d-%02d', year, month) AS month, status, vintages,
                   CASE WHEN status = 'revised' THEN revision_usd END AS revision_usd
            FROM classified
            WHERE status IS NOT NULL
            ORDER BY flow DESC, month
            """,
            [since, since],
        )
    )


def largest_revisions(
    con: duckdb.DuckDBPyConnection, since: datetime | None, top: int = TOP
) -> list[dict[str, Any]]:
    """The largest revisions of the latest run, by country, flow and month (the sum of its ATP
    groups), largest absolute change first; months that arrived in it are not revisions."""
    return records(
        con.execute(
            f"""
            WITH changed AS (
                SELECT * FROM {MARTS}.fct_atp_revisions
                WHERE (?::TIMESTAMP IS NULL OR latest_fetched_at > ?::TIMESTAMP)
                  AND vintages > 1
            ),
            revised_months AS (
                SELECT flow, year, month FROM changed GROUP BY ALL
                HAVING bool_or(revision_status IN ('unchanged', 'revised', 'dropped'))
            )
            SELECT flow, partner_code, any_value(partner_name) AS partner_name,
                   printf('%04d-%02d', year, month) AS month,
                   sum(first_value_usd) AS first_value_usd,
                   sum(latest_value_usd) AS latest_value_usd,
                   sum(revision_usd) AS revision_usd,
                   sum(revision_usd) / nullif(sum(first_value_usd), 0) * 100 AS revision_pct,
                   count(*) FILTER (WHERE revision_status IN ('revised', 'dropped', 'added'))
                       AS groups_changed,
                   -- the country's month as a whole: gone, new, or changed
                   CASE WHEN bool_and(revision_status IN ('dropped', 'transient')) THEN 'dropped'
                        WHEN bool_and(revision_status IN ('added', 'transient')) THEN 'added'
                        ELSE 'revised' END AS status
            FROM changed JOIN revised_months USING (flow, year, month)
            GROUP BY flow, partner_code, year, month
            HAVING sum(revision_usd) <> 0
            ORDER BY abs(sum(revision_usd)) DESC, flow DESC, partner_code, month
            LIMIT ?
            """,
            [since, since, top],
        )
    )


def us_month(con: duckdb.DuckDBPyConnection, year: int, month: int) -> dict[str, dict[str, Any]]:
    """Per flow: U.S. ATP trade in the month and in the same month a year before, summed over the
    individual countries of fct_atp_trade_monthly (the marts keep Census's U.S. total row by
    year only; the two are tested to agree within 0.5%). Missing cells are skipped and counted."""
    now, then = date(year, month, 1), date(year - 1, month, 1)
    found = {
        row["month_start"]: row
        for row in records(
            con.execute(
                f"""
                SELECT month_start,
                       sum(imports_usd) AS imports_usd, count(*) - count(imports_usd)
                           AS imports_missing_cells,
                       sum(exports_usd) AS exports_usd, count(*) - count(exports_usd)
                           AS exports_missing_cells
                FROM {MARTS}.fct_atp_trade_monthly
                WHERE month_start IN (?, ?)
                GROUP BY month_start
                """,
                [now, then],
            )
        )
    }
    out = {}
    for flow in FLOWS:
        current, prior = found.get(now, {}), found.get(then, {})
        value, base = current.get(f"{flow}_usd"), prior.get(f"{flow}_usd")
        change = value - base if value is not None and base is not None else None
        out[flow] = {
            "month": f"{year:04d}-{month:02d}",
            "value_usd": value,
            "missing_cells": current.get(f"{flow}_missing_cells", 0),
            "prior_month": f"{year - 1:04d}-{month:02d}",
            "prior_value_usd": base,
            "change_usd": change,
            "yoy_pct": change / base * 100 if change is not None and base else None,
        }
    return out


def movers(con: duckdb.DuckDBPyConnection, year: int, flow: str, top: int = TOP) -> list[dict]:
    """The countries whose ATP trade in the flow changed most in dollars (either way), year to
    date against the same months of the year before; those without a base are left out."""
    return records(
        con.execute(
            f"""
            SELECT partner_code, partner_name, atp_{flow}_usd, atp_{flow}_change_usd,
                   atp_{flow}_yoy_pct, atp_{flow}_rank
            FROM {MARTS}.fct_atp_partner_year
            WHERE year = ? AND atp_{flow}_change_usd IS NOT NULL
            ORDER BY abs(atp_{flow}_change_usd) DESC, atp_{flow}_rank, partner_code
            LIMIT ?
            """,
            [year, top],
        )
    )


def _one(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> dict[str, Any] | None:
    found = records(con.execute(sql, list(params)))
    return found[0] if found else None


# -- words --------------------------------------------------------------------------------------


def month_name(month: str) -> str:
    """'2026-09' -> 'September 2026'."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def month_abbr(month: str) -> str:
    """'2026-09' -> 'Sep 2026'."""
    return f"{MONTHS[int(month[5:7]) - 1][:3]} {month[:4]}"


def _pct_words(value: float | None) -> str:
    return "no comparison" if value is None else f"{pct(value)}%"


def _spans(months: list[str]) -> str:
    """'2025-01..2025-12 (12 months)', '2026-10', '2024-03, 2024-05..2024-06 (3 months)'."""
    runs: list[list[str]] = []
    for m in sorted(months):
        if runs and _next_month(runs[-1][-1]) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    text = ", ".join(r[0] if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)
    return text if len(months) == 1 else f"{text} ({len(months)} months)"


def _next_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def change_lines(d: Digest) -> list[str]:
    """'Arrived: imports 2026-10; exports 2026-10.' and 'Revised: ...' (or why unknown)."""
    if d.changes is None:
        return [
            "Arrived and revised months: unknown (this copy, published before "
            "marts.fct_atp_revisions existed, does not have it)."
        ]
    lines = []
    for status in ("arrived", "revised"):
        parts = []
        for flow in FLOWS:
            rows = [c for c in d.changes if c["flow"] == flow and c["status"] == status]
            if not rows:
                continue
            net = ""
            if status == "revised":
                net = f", net {money_words(sum(r['revision_usd'] or 0 for r in rows), sign=True)}"
            parts.append(f"{flow} {_spans([r['month'] for r in rows])}{net}")
        lines.append(f"{status.capitalize()}: {'; '.join(parts) if parts else 'none'}.")
    return lines


def basis_line(d: Digest) -> str:
    return (
        f"Counted over the years with a vintage fetched {d.basis}: "
        "arrived = new in the latest vintage of its year; revised = changed since the first "
        "stored vintage of its year (countries and ATP groups, marts.fct_atp_revisions)."
    )


def summary(d: Digest) -> str:
    """A few lines for a webhook post or an e-mail."""
    if not d.newest:
        return f"The published copy holds no month yet.\n{d.source}"
    lines = [f"ATP trade data through {month_name(d.newest)}. " + " ".join(change_lines(d))]
    ytd = period(d.year, d.months_covered) if d.months_covered else None
    for flow in FLOWS:
        m = d.us_month.get(flow) or {}
        text = (
            f"U.S. ATP {flow}, {month_name(d.newest)}: {money_words(m.get('value_usd'))}, "
            f"{_pct_words(m.get('yoy_pct'))} on {month_name(m.get('prior_month', d.newest))}"
        )
        if d.us_ytd and ytd:
            text += (
                f"; {ytd}: {money_words(d.us_ytd[f'atp_{flow}_usd'])}, "
                f"{_pct_words(d.us_ytd[f'atp_{flow}_yoy_pct'])}"
            )
        lines.append(text + ".")
    moved = [
        f"{flow} {display_name(rows[0]['partner_name'])} "
        f"{money_words(rows[0][f'atp_{flow}_change_usd'], sign=True)}"
        for flow, rows in d.movers.items()
        if rows
    ]
    if moved and ytd:
        lines.append(f"Moved most ({ytd} vs a year before): {'; '.join(moved)}.")
    if d.revisions:
        r = d.revisions[0]
        lines.append(
            f"Largest revision: {display_name(r['partner_name'])} {r['flow']} {r['month']}, "
            f"{money_words(r['revision_usd'], sign=True)} ({r['status']})."
        )
    lines.append(d.source)
    return "\n".join(lines)


# -- tables -------------------------------------------------------------------------------------


def us_table(d: Digest) -> Table:
    """The newest month against the same month a year before, and the year to date, per flow."""
    y = d.us_ytd or {}
    values = [
        v
        for flow in FLOWS
        for v in (
            *(d.us_month[flow].get(k) for k in ("value_usd", "prior_value_usd", "change_usd")),
            y.get(f"atp_{flow}_usd"),
            y.get(f"atp_{flow}_change_usd"),
        )
    ]
    unit = money_unit(values)
    span = f"{month_span(d.months_covered)} {d.year}" if d.months_covered else "Year to date"
    m = d.us_month[FLOWS[0]]
    headers = ["Flow", f"{month_abbr(m['month'])} {unit.label}"]
    headers += [f"{month_abbr(m['prior_month'])} {unit.label}", f"Change {unit.label}", "YoY %"]
    headers += [f"{span} {unit.label}", f"Change {unit.label}", "YoY %"]
    display = []
    for flow in FLOWS:
        m = d.us_month[flow]
        display.append(
            [
                f"ATP {flow}",
                money(m["value_usd"], unit),
                money(m["prior_value_usd"], unit),
                money(m["change_usd"], unit, sign=True),
                pct(m["yoy_pct"]),
                money(y.get(f"atp_{flow}_usd"), unit),
                money(y.get(f"atp_{flow}_change_usd"), unit, sign=True),
                pct(y.get(f"atp_{flow}_yoy_pct")),
            ]
        )
    notes = [
        "The month: the sum of the individual countries (marts.fct_atp_trade_monthly; the marts "
        "keep Census's U.S. total row by year only). Year to date: the U.S. total row "
        "(marts.fct_us_atp_year), against the same months of the year before."
    ]
    missing = {f: d.us_month[f]["missing_cells"] for f in FLOWS if d.us_month[f]["missing_cells"]}
    if missing:
        counts = ", ".join(f"{f} {n}" for f, n in missing.items())
        notes.append(f"Missing value cells skipped in the month: {counts}.")
    return Table([], [], headers=headers, display=display, left={0}, notes=notes)


def movers_table(d: Digest, flow: str) -> Table:
    rows = d.movers.get(flow, [])
    unit = money_unit(v for r in rows for v in (r[f"atp_{flow}_usd"], r[f"atp_{flow}_change_usd"]))
    span = month_span(d.months_covered or 12)
    noun = (
        "Sources of U.S. ATP imports" if flow == "imports" else "Destinations of U.S. ATP exports"
    )
    return Table(
        [],
        [],
        title=f"{noun}: largest changes, {span} {d.year} vs {span} {d.year - 1}",
        headers=["Partner", f"{span} {d.year} {unit.label}", f"Change {unit.label}", "YoY %"]
        + ["Rank"],
        display=[
            [
                f"{display_name(r['partner_name'])} ({r['partner_code']})",
                money(r[f"atp_{flow}_usd"], unit),
                money(r[f"atp_{flow}_change_usd"], unit, sign=True),
                pct(r[f"atp_{flow}_yoy_pct"]),
                str(r[f"atp_{flow}_rank"]),
            ]
            for r in rows
        ],
        left={0},
        empty="No partner to compare with the year before.",
    )


def revisions_table(d: Digest) -> Table:
    rows = d.revisions
    unit = money_unit(
        v for r in rows for v in (r["first_value_usd"], r["latest_value_usd"], r["revision_usd"])
    )
    return Table(
        [],
        [],
        headers=["Partner", "Flow", "Month", f"First {unit.label}", f"Latest {unit.label}"]
        + [f"Revision {unit.label}", "%", "Status"],
        display=[
            [
                f"{display_name(r['partner_name'])} ({r['partner_code']})",
                r["flow"],
                r["month"],
                money(r["first_value_usd"], unit),
                money(r["latest_value_usd"], unit),
                money(r["revision_usd"], unit, sign=True),
                pct(r["revision_pct"]),
                r["status"],
            ]
            for r in rows
        ],
        left={0, 1, 2, 7},
        notes=[
            "A country's ATP trade in the month (its ATP groups summed): first stored vintage "
            "against the latest (marts.fct_atp_revisions)."
        ],
        empty="No month was revised in this publication.",
    )


# -- formats ------------------------------------------------------------------------------------


def title(d: Digest) -> str:
    if not d.newest:
        return "U.S. ATP trade: release digest (no data yet)"
    return f"U.S. ATP trade: release digest, data through {month_name(d.newest)}"


def sections(d: Digest) -> list[tuple[str, list[str], list[Table]]]:
    """(heading, paragraphs, tables) of the digest, in order, for markdown and html."""
    if not d.newest:
        return [("No data", ["The published copy holds no month yet."], [])]
    months = d.months_covered or 12
    basis = [] if d.changes is None else [basis_line(d)]
    against = f"Largest changes in dollars, either way, against {period(d.year - 1, months)}."
    return [
        ("What arrived or changed", change_lines(d) + basis, []),
        (f"The newest month: {month_name(d.newest)}", [], [us_table(d)]),
        (
            f"Partners that moved most, {period(d.year, months)}",
            [against],
            [movers_table(d, flow) for flow in FLOWS],
        ),
        ("Largest revisions", [], [revisions_table(d)]),
    ]


def footer(d: Digest) -> list[str]:
    stamp = d.published.get("published_at")
    when = f"published {stamp:%Y-%m-%d %H:%M} UTC" if stamp else "publication not recorded"
    return [
        d.source,
        f"Data through {month_name(d.newest) if d.newest else 'no month'}; {when}.",
    ]


def render_markdown_digest(d: Digest) -> str:
    parts = [f"## {title(d)}", ""]
    if not is_census(d.published):
        parts += [f"> **{d.source}**", ""]
    for heading, paragraphs, tables in sections(d):
        parts += [f"### {heading}", ""]
        for text in paragraphs:
            parts += [text, ""]
        for table in tables:
            parts += [render_markdown(table), ""]
    parts += ["---", ""]
    lines = footer(d)
    parts += [f"{line}  " for line in lines[:-1]] + [lines[-1]]
    return "\n".join(parts)


def render_html_digest(d: Digest) -> str:
    """One self-contained page: inline CSS, no scripts, no links, nothing fetched."""
    body = []
    for heading, paragraphs, tables in sections(d):
        body.append(f"<section><h2>{escape(heading)}</h2>")
        body += [f"<p>{escape(text)}</p>" for text in paragraphs]
        body += [_html_table(table) for table in tables]
        body.append("</section>")
    banner = "" if is_census(d.published) else f'<p class="banner">{escape(d.source)}</p>'
    return _PAGE.format(
        title=escape(title(d)),
        css=_CSS,
        banner=banner,
        body="\n".join(body),
        footer="".join(f"<p>{escape(line)}</p>" for line in footer(d)),
    )


def _html_table(table: Table) -> str:
    if not table.display:
        heading = f"<p><b>{escape(table.title)}</b></p>" if table.title else ""
        return f"{heading}<p>{escape(table.empty)}</p>"
    caption = f"<caption>{escape(table.title)}</caption>" if table.title else ""
    left = table.left or set()
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.headers or [])
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(c)}</td>" if i in left else f'<td class="num">{escape(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in table.display
    )
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in table.notes)
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{notes}"


def digest_document(d: Digest) -> dict[str, Any]:
    """The digest as JSON: whole dollars, unrounded percent, the marts' column names."""
    return json_value(
        {
            "title": title(d),
            "subject": d.subject,
            "data_through": d.newest,
            "months_covered": d.months_covered,
            "published_at": d.published.get("published_at"),
            "demo": bool(d.published.get("demo")),
            "source": d.source,
            "changes": {"since": d.since, "basis": d.basis, "months": d.changes},
            "us_month": d.us_month,
            "us_year_to_date": d.us_ytd,
            "movers": d.movers,
            "revisions": d.revisions,
            "text": summary(d),
            "marts": {
                "changes": "marts.fct_atp_revisions",
                "us_month": "marts.fct_atp_trade_monthly (sum of countries)",
                "us_year_to_date": "marts.fct_us_atp_year",
                "movers": "marts.fct_atp_partner_year",
                "revisions": "marts.fct_atp_revisions (sum of ATP groups)",
            },
        }
    )


def render(d: Digest, fmt: str = "markdown") -> str:
    """The digest as markdown, html, json or text (a few lines)."""
    if fmt == "markdown":
        return render_markdown_digest(d)
    if fmt == "html":
        return render_html_digest(d)
    if fmt == "json":
        return render_json(digest_document(d))
    if fmt == "text":
        return summary(d)
    raise ValueError(f"unknown digest format {fmt!r}: one of {', '.join(FORMATS)}")


def digest_paths(settings: Settings) -> dict[str, Path]:
    """{format: path} of the digest files beside the published copy."""
    stem = settings.published.stem
    suffixes = {"markdown": "md", "html": "html", "json": "json"}
    return {
        fmt: settings.published.with_name(f"{stem}.digest.{ext}") for fmt, ext in suffixes.items()
    }


def write_digest(settings: Settings) -> list[Path]:
    """Write `<published stem>.digest.md`, `.html` and `.json` beside the published copy
    (each atomically); returns their paths. For the pipeline, after publishing."""
    found = digest(settings)
    written = []
    for fmt, path in digest_paths(settings).items():
        write_atomic(path, render(found, fmt) + "\n")
        written.append(path)
    return written


_CSS = """
body { margin: 0; background: #f4f5f7; color: #1d2330;
  font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 912px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 24px; margin: 0 0 16px; }
h2 { font-size: 17px; margin: 0 0 8px; }
section { background: #fff; border: 1px solid #dfe2e6; border-radius: 6px; margin: 0 0 20px;
  padding: 14px 16px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 700; padding: 4px 0; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e6ea; text-align: left; }
td.num { text-align: right; }
.note, footer { color: #5b6472; font-size: 13px; }
.banner { padding: 10px 14px; border: 2px solid #b8860b; border-radius: 6px; background: #fff6d8;
  font-weight: 700; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{banner}
<h1>{title}</h1>
{body}
<footer>{footer}</footer>
</main>
</body>
</html>"""
