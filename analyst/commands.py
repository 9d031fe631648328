"""The `atp` analyst commands (report, partner, category, sql, export): each takes the parsed
arguments and the settings, reads the published warehouse (ATP_PUBLISHED) read-only and returns
the text to print. Errors are `AnalystError`s (or other `AtpError`s) with a one-line message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from analyst.formats import (
    SOURCE,
    Table,
    bn,
    one_line,
    pct,
    period_and_basis,
    render_tables,
    title_name,
)
from analyst.queries import (
    AnalystError,
    Category,
    CategoryMix,
    Partner,
    category_partners,
    export_marts,
    find_category,
    find_partner,
    mart_descriptions,
    open_published,
    partner_category_mix,
    partner_years,
    publication,
    require_year,
    run_query,
)
from analyst.report_data import TopPartners, top_partners
from ingest.settings import Settings

NO_TRADE = "-"


def run(args: argparse.Namespace, settings: Settings) -> str:
    """Run the analyst command `args.command`; DuckDB and file errors become one-line errors."""
    command = COMMANDS[args.command]
    try:
        return command(args, settings)
    except duckdb.Error as exc:
        raise AnalystError(one_line(exc)) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise AnalystError(f"cannot use{where}: {exc.strerror or exc}") from None


# -- atp report -------------------------------------------------------------------------------


def report(args: argparse.Namespace, settings: Settings) -> str:
    with open_published(settings.published) as con:
        data = top_partners(con, args.year, args.flow, args.top)
    return render_report(data, args.format)


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


# -- atp partner ------------------------------------------------------------------------------


def partner(args: argparse.Namespace, settings: Settings) -> str:
    with open_published(settings.published) as con:
        found = find_partner(con, args.partner)
        years = partner_years(con, found)
        mix = partner_category_mix(con, found)
        published = publication(con)
    tables = [
        _partner_years_table(found, years),
        _partner_mix_table(found, mix),
        _partner_goods_table(years),
    ]
    tables[-1].notes.append(SOURCE)
    document = {
        "partner": {
            "partner_code": found.code,
            "partner_name": found.name,
            "partner_kind": found.kind,
            "region": found.region,
            "first_year": found.first_year,
            "last_year": found.last_year,
        },
        "data_through": published.get("newest_month"),
        "years": years,
        "category_mix": {"year": mix.year, "categories": mix.rows},
        "source": SOURCE,
    }
    heading = _partner_heading(found, published)
    if args.format == "json":
        return render_tables(tables, "json", document)
    if args.format == "markdown":
        return f"### {heading}\n\n" + render_tables(tables, "markdown")
    return f"{heading}\n\n" + render_tables(tables, "table")


def _partner_heading(found: Partner, published: dict[str, Any]) -> str:
    kind = found.kind if found.region is None else f"{found.kind}, {found.region}"
    through = f"; data through {published['newest_month']}" if published.get("newest_month") else ""
    return f"{found.label}: {kind}; trade recorded {found.first_year}-{found.last_year}{through}"


def _partner_years_table(found: Partner, years: list[dict[str, Any]]) -> Table:
    ranked = found.kind == "country"
    headers = ["Year", "Months", "Imports $bn", "YoY %", "Share %"]
    headers += ["Rank"] if ranked else []
    headers += ["Exports $bn", "YoY %", "Share %"]
    headers += ["Rank"] if ranked else []
    headers += ["Balance $bn"]
    display = []
    for y in years:
        if not y["has_trade"]:
            display.append(
                [str(y["year"]), str(y["months_covered"])] + [NO_TRADE] * (len(headers) - 2)
            )
            continue
        row = [str(y["year"]), str(y["months_covered"]), bn(y["atp_imports_usd"])]
        row += [pct(y["atp_imports_yoy_pct"]), pct(y["atp_imports_share_pct"], sign=False)]
        row += [str(y["atp_imports_rank"])] if ranked else []
        row += [bn(y["atp_exports_usd"]), pct(y["atp_exports_yoy_pct"])]
        row += [pct(y["atp_exports_share_pct"], sign=False)]
        row += [str(y["atp_exports_rank"])] if ranked else []
        row += [bn(y["atp_balance_usd"], sign=True)]
        display.append(row)
    notes = []
    if any(not y["has_trade"] for y in years):
        notes.append(f"A year of {NO_TRADE}: no trade recorded with the partner that year.")
    if not ranked:
        notes.append(
            "A grouping overlaps countries and other groupings: it is not ranked "
            "(shares are of the U.S. total)."
        )
    return Table(
        [],
        [],
        title="ATP trade with the U.S. by year (YoY vs the same months of the year before; "
        "share of the U.S. total; balance = exports - imports)",
        headers=headers,
        display=display,
        left=set(),
        notes=notes,
    )


def _partner_mix_table(found: Partner, mix: CategoryMix) -> Table:
    headers = ["Code", "ATP group", "Imports $bn", "% of ATP imports", "Exports $bn"]
    headers += ["% of ATP exports", "Balance $bn", "U.S. group share %"]
    display = [
        [
            r["hitech_code"],
            r["category_name"],
            bn(r["imports_usd"]),
            pct(r["share_of_partner_atp_imports_pct"], sign=False),
            bn(r["exports_usd"]),
            pct(r["share_of_partner_atp_exports_pct"], sign=False),
            bn(r["balance_usd"], sign=True),
            pct(r["share_of_us_category_imports_pct"], sign=False),
        ]
        for r in mix.rows
    ]
    if mix.year is None:
        title, empty = "ATP group mix", "No full year (12 months) is loaded yet."
    else:
        title = f"ATP group mix, {mix.year} (latest full year)"
        empty = (
            "The marts keep the ATP group mix for countries only, not for groupings."
            if found.kind != "country"
            else f"No ATP trade recorded in {mix.year}."
        )
    return Table([], [], title=title, headers=headers, display=display, left={0, 1}, empty=empty)


def _partner_goods_table(years: list[dict[str, Any]]) -> Table:
    headers = ["Year", "Months", "Imports $bn", "Exports $bn", "Trade $bn", "Balance $bn"]
    headers += ["Trade YoY %", "ATP % of imports"]
    display = []
    for y in years:
        if not y["has_trade"]:
            display.append([str(y["year"]), str(y["months_covered"])] + [NO_TRADE] * 6)
            continue
        display.append(
            [
                str(y["year"]),
                str(y["months_covered"]),
                bn(y["goods_imports_usd"]),
                bn(y["goods_exports_usd"]),
                bn(y["goods_trade_usd"]),
                bn(y["goods_balance_usd"], sign=True),
                pct(y["goods_trade_yoy_pct"]),
                pct(y["atp_share_of_goods_imports_pct"], sign=False),
            ]
        )
    return Table(
        [],
        [],
        title="Total goods trade (all commodities) by year",
        headers=headers,
        display=display,
        left=set(),
    )


# -- atp category -----------------------------------------------------------------------------


def category(args: argparse.Namespace, settings: Settings) -> str:
    flow = args.flow
    with open_published(settings.published) as con:
        group = find_category(con, args.category)
        months = require_year(con, args.year)
        rows = category_partners(con, group, args.year, flow, args.top)
    table = _category_table(group, args.year, months, flow, rows)
    document = {
        "title": table.title,
        "year": args.year,
        "flow": flow,
        "months_covered": months,
        "hitech_code": group.code,
        "category_name": group.name,
        "partners": table.records(),
        "source": SOURCE,
    }
    for record in document["partners"]:
        del record["year"], record["months_covered"], record["hitech_code"]
        del record["category_name"]
    return render_tables([table], args.format, document)


def _category_table(
    group: Category, year: int, months: int, flow: str, rows: list[dict[str, Any]]
) -> Table:
    columns = ["rank", "partner_code", "partner_name", f"{flow}_usd", f"{flow}_change_usd"]
    columns += [f"{flow}_yoy_pct", f"share_of_us_category_{flow}_pct"]
    columns += [f"share_of_partner_atp_{flow}_pct", "balance_usd"]
    period, basis = period_and_basis(year, months)
    noun = "sources of U.S." if flow == "imports" else "destinations of U.S."
    shown = sum(r[f"share_of_us_category_{flow}_pct"] or 0 for r in rows)
    held = (
        f"The partner shown holds {shown:.1f}%"
        if len(rows) == 1
        else f"The {len(rows)} partners shown hold {shown:.1f}%"
    )
    notes = [
        f"Share % = the partner's share of U.S. {group.name} {flow}; % of partner ATP = the "
        f"group's share of the partner's ATP {flow}.",
        f"{held} of U.S. {group.name} {flow}.",
        SOURCE,
    ]
    return Table(
        columns=["year", "months_covered", "hitech_code", "category_name", *columns],
        rows=[[year, months, group.code, group.name, *(r[c] for c in columns)] for r in rows],
        title=f"Top {len(rows)} {noun} {group.label} {flow}, {year}{period} "
        f"({basis}; balance = exports - imports)",
        headers=["Rank", "Partner", f"{flow.capitalize()} $bn", "Change $bn", "YoY %"]
        + ["Share %", "% of partner ATP", "Balance $bn"],
        display=[
            [
                str(r["rank"]),
                f"{title_name(r['partner_name'])} ({r['partner_code']})",
                bn(r[f"{flow}_usd"]),
                bn(r[f"{flow}_change_usd"], sign=True),
                pct(r[f"{flow}_yoy_pct"]),
                pct(r[f"share_of_us_category_{flow}_pct"], sign=False),
                pct(r[f"share_of_partner_atp_{flow}_pct"], sign=False),
                bn(r["balance_usd"], sign=True),
            ]
            for r in rows
        ],
        left={1},
        notes=notes,
        empty=f"No partner traded {group.name} in {year}.",
    )


# -- atp sql ------------------------------------------------------------------------------------


def sql(args: argparse.Namespace, settings: Settings) -> str:
    query = args.query
    if query == "-":
        query = sys.stdin.read()
    with open_published(settings.published) as con:
        result = run_query(con, query)
    table = Table(result.columns, result.rows)
    if args.format == "json":
        return render_tables([table], "json", table.records())
    if args.format == "table":
        count = len(result.rows)
        table.notes.append(f"({count} row{'s' if count != 1 else ''})")
    return render_tables([table], args.format)


# -- atp export ---------------------------------------------------------------------------------


def export(args: argparse.Namespace, settings: Settings) -> str:
    out = Path(args.out).expanduser().resolve()
    with open_published(settings.published) as con:
        published = publication(con)
        tables = export_marts(con, out, args.format)
    descriptions = mart_descriptions()
    readme = out / "README.md"
    readme.write_text(
        export_readme(tables, descriptions, settings.published, published, args.format),
        encoding="utf-8",
    )
    lines = [f"Exported {len(tables)} mart tables ({args.format}) to {out}:"]
    lines += [f"  {t.path.name}: {t.rows:,} rows, {len(t.columns)} columns" for t in tables]
    lines.append(f"  {readme.name}: the tables and their columns")
    return "\n".join(lines)


def export_readme(tables, descriptions, source: Path, published: dict[str, Any], fmt: str) -> str:
    about_copy = []
    if published.get("published_at"):
        about_copy.append(f"published {published['published_at']:%Y-%m-%d %H:%M} UTC")
    if published.get("newest_month"):
        about_copy.append(f"data through {published['newest_month']}")
    lines = [
        "# ATP warehouse marts",
        "",
        f"Exported by `atp export` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from `{source}`"
        + (f" ({', '.join(about_copy)})." if about_copy else "."),
        "",
        f"One {fmt} file per table of schema `marts`. Money is in whole U.S. dollars, percentages "
        f"are in percent (35.2, not 0.352). {SOURCE}",
        "",
        f"Column descriptions: {descriptions.source}.",
    ]
    for table in tables:
        lines += ["", f"## {table.name}", ""]
        lines += [f"File `{table.path.name}`: {table.rows:,} rows."]
        about = descriptions.models.get(table.name)
        if about:
            lines += ["", about]
        lines += ["", "| column | type | description |", "| --- | --- | --- |"]
        columns = descriptions.columns.get(table.name, {})
        for name, kind in table.columns:
            text = columns.get(name, "").replace("|", "\\|")
            lines.append(f"| {name} | {kind} | {text} |")
    return "\n".join(lines) + "\n"


def html(args: argparse.Namespace, settings: Settings) -> str:
    from analyst.html_report import write_html_report, write_partner_page

    out = args.out or settings.report_dir
    if getattr(args, "partner", None):
        partner = " ".join(args.partner)
        return f"wrote {write_partner_page(settings.published, out, partner, args.year, args.flow)}"
    return f"wrote {write_html_report(settings.published, out)}"


# -- atp brief --------------------------------------------------------------------------------


def brief(args: argparse.Namespace, settings: Settings) -> str:
    """The brief in markdown (default), html (a page with charts) or json; with --out, written
    to the file (atomically) and the path printed."""
    from analyst import brief as words
    from analyst.formats import render_json
    from ingest.files import write_atomic

    partner = " ".join(args.partner) if isinstance(args.partner, list) else args.partner
    with open_published(settings.published, required=words.BRIEF_MARTS) as con:
        data = words.load_brief(con, partner, args.year, args.flow)
        if args.format == "html":
            from analyst.html_report import render_partner_page

            text = render_partner_page(con, data)
        elif args.format == "json":
            text = render_json(words.brief_document(data))
        else:
            text = words.render_markdown_brief(data)
    if args.out is None:
        return text
    target = Path(args.out).expanduser().resolve()
    write_atomic(target, text + "\n")
    return f"wrote {target}"


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], str]] = {
    "report": report,
    "html": html,
    "partner": partner,
    "category": category,
    "sql": sql,
    "export": export,
    "brief": brief,
}
