"""The `atp` analyst commands (report, partner, category, sql, export): each takes the parsed
arguments and the settings, reads the published warehouse (ATP_PUBLISHED) read-only and returns
the text to print. Errors are `AnalystError`s (or other `AtpError`s) with a one-line message.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from analyst.formats import (
    SOURCE,
    Table,
    Unit,
    csv_pieces,
    is_census,
    json_pieces,
    money,
    money_unit,
    one_line,
    pct,
    period_and_basis,
    plural,
    render_tables,
    source_line,
    sql_display,
)
from analyst.products import products
from analyst.queries import (
    AnalystError,
    Category,
    CategoryMix,
    Partner,
    TimeLimit,
    category_partners,
    export_marts,
    find_category,
    find_partner,
    mart_descriptions,
    open_published,
    partner_category_mix,
    partner_years,
    publication,
    records,
    require_year,
    run_query,
    source_of,
)
from analyst.report_data import TopPartners, latest_full_year, top_partners
from ingest.files import write_atomic
from ingest.partner_names import display_name
from ingest.settings import Settings
from ingest.warehouse import MARTS

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
        source = source_of(con)
    return render_report(data, args.format, source)


def report_title(data: TopPartners) -> str:
    year, months = data.year, data.months_covered
    period, basis = period_and_basis(year, months)
    noun = "source" if data.flow == "imports" else "destination"
    top = plural(len(data.partners), noun)
    flow = "of U.S. ATP imports" if data.flow == "imports" else "of U.S. ATP exports"
    return f"Top {top} {flow}, {year}{period} ({basis}; balance = exports - imports)"


def report_table(data: TopPartners, source: str = SOURCE) -> Table:
    """The table: ranked partners, then the U.S. total line (names in display form)."""
    f = data.flow
    everyone = [_displayed(row) for row in (*data.partners, data.us_total)]
    rows = [[row[c] for c in data.columns] for row in everyone]
    money_columns = (f"atp_{f}_usd", f"atp_{f}_change_usd", "atp_balance_usd")
    unit = money_unit(row[c] for row in everyone for c in money_columns)
    display = [
        [
            str(row["rank"]) if row["rank"] is not None else "",
            f"{row['partner_name']} ({row['partner_code']})"
            if row["rank"] is not None
            else row["partner_name"],
            money(row[f"atp_{f}_usd"], unit),
            money(row[f"atp_{f}_change_usd"], unit, sign=True),
            pct(row[f"atp_{f}_yoy_pct"]),
            pct(row[f"atp_{f}_share_pct"], sign=False),
            money(row["atp_balance_usd"], unit, sign=True),
        ]
        for row in everyone
    ]
    headers = ["Rank", "Partner", f"ATP {unit.label}", f"Change {unit.label}", "YoY %"]
    headers += ["Share %", f"Balance {unit.label}"]
    return Table(
        columns=["year", "months_covered", *data.columns],
        rows=[[data.year, data.months_covered, *row] for row in rows],
        title=report_title(data),
        headers=headers,
        display=display,
        left={1},
        total_rows=1,
        notes=[source],
    )


def render_report(data: TopPartners, fmt: str = "table", source: str = SOURCE) -> str:
    """table (aligned text), markdown, csv (one row per partner, then the U.S. total with
    partner_code TOTAL and no rank) or json; `source` is the copy's source line (the notes of
    the table, markdown; the json "source"; csv is data only)."""
    table = report_table(data, source)
    document = {
        "title": table.title,
        "year": data.year,
        "flow": data.flow,
        "months_covered": data.months_covered,
        "partners": [_displayed(row) for row in data.partners],
        "us_total": _displayed(data.us_total),
        "source": source,
    }
    return render_tables([table], fmt, document)


def _displayed(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its partner_name in display form (the code beside it is unchanged)."""
    return {**row, "partner_name": display_name(row["partner_name"])}


# -- atp partner ------------------------------------------------------------------------------


def partner(args: argparse.Namespace, settings: Settings) -> str:
    with open_published(settings.published) as con:
        found = find_partner(con, args.partner)
        years = partner_years(con, found)
        mix, months = _category_mix(con, found, getattr(args, "year", None))
        published = publication(con)
    source = source_line(published)
    tables = [
        _partner_years_table(found, years),
        _partner_mix_table(found, mix, months),
        _partner_goods_table(years),
    ]
    tables[-1].notes.append(source)
    document = {
        "partner": {
            "partner_code": found.code,
            "partner_name": display_name(found.name),
            "partner_kind": found.kind,
            "region": found.region,
            "first_year": found.first_year,
            "last_year": found.last_year,
        },
        "data_through": published.get("newest_month"),
        "years": years,
        "category_mix": {"year": mix.year, "categories": mix.rows},
        "source": source,
    }
    heading = _partner_heading(found, published)
    if args.format == "json":
        return render_tables(tables, "json", document)
    if args.format == "markdown":
        return f"### {heading}\n\n" + render_tables(tables, "markdown")
    return f"{heading}\n\n" + render_tables(tables, "table")


def _category_mix(
    con: duckdb.DuckDBPyConnection, found: Partner, year: int | None
) -> tuple[CategoryMix, int | None]:
    """The partner's ATP group mix in `year` (--year) and the months that year covers, else in
    the latest full year (months None)."""
    if year is None:
        return partner_category_mix(con, found), None
    mix = CategoryMix(year)
    months = require_year(con, year)  # a year not loaded: the usual one-line error
    if found.kind == "country":  # the marts keep groups by country, not by grouping
        mix.rows = records(
            con.execute(
                f"""
                SELECT hitech_code, category_name, imports_usd, share_of_partner_atp_imports_pct,
                       exports_usd, share_of_partner_atp_exports_pct, balance_usd,
                       imports_yoy_pct, exports_yoy_pct,
                       share_of_us_category_imports_pct, share_of_us_category_exports_pct
                FROM {MARTS}.fct_atp_partner_category_year
                WHERE partner_code = ? AND year = ?
                ORDER BY imports_usd DESC, hitech_code
                """,
                [found.code, year],
            )
        )
    return mix, months


def _partner_heading(found: Partner, published: dict[str, Any]) -> str:
    kind = found.kind if found.region is None else f"{found.kind}, {found.region}"
    through = f"; data through {published['newest_month']}" if published.get("newest_month") else ""
    return f"{found.label}: {kind}; trade recorded {found.first_year}-{found.last_year}{through}"


def _partner_years_table(found: Partner, years: list[dict[str, Any]]) -> Table:
    ranked = found.kind == "country"
    unit = _unit(years, "atp_imports_usd", "atp_exports_usd", "atp_balance_usd")
    headers = ["Year", "Months", f"Imports {unit.label}", "YoY %", "Share %"]
    headers += ["Rank"] if ranked else []
    headers += [f"Exports {unit.label}", "YoY %", "Share %"]
    headers += ["Rank"] if ranked else []
    headers += [f"Balance {unit.label}"]
    display = []
    for y in years:
        if not y["has_trade"]:
            display.append(
                [str(y["year"]), str(y["months_covered"])] + [NO_TRADE] * (len(headers) - 2)
            )
            continue
        row = [str(y["year"]), str(y["months_covered"]), money(y["atp_imports_usd"], unit)]
        row += [pct(y["atp_imports_yoy_pct"]), pct(y["atp_imports_share_pct"], sign=False)]
        row += [str(y["atp_imports_rank"])] if ranked else []
        row += [money(y["atp_exports_usd"], unit), pct(y["atp_exports_yoy_pct"])]
        row += [pct(y["atp_exports_share_pct"], sign=False)]
        row += [str(y["atp_exports_rank"])] if ranked else []
        row += [money(y["atp_balance_usd"], unit, sign=True)]
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


def _partner_mix_table(found: Partner, mix: CategoryMix, months: int | None = None) -> Table:
    unit = _unit(mix.rows, "imports_usd", "exports_usd", "balance_usd")
    headers = ["Code", "ATP group", f"Imports {unit.label}", "% of ATP imports"]
    headers += [f"Exports {unit.label}", "% of ATP exports", f"Balance {unit.label}"]
    headers += ["U.S. group share %"]
    display = [
        [
            r["hitech_code"],
            r["category_name"],
            money(r["imports_usd"], unit),
            pct(r["share_of_partner_atp_imports_pct"], sign=False),
            money(r["exports_usd"], unit),
            pct(r["share_of_partner_atp_exports_pct"], sign=False),
            money(r["balance_usd"], unit, sign=True),
            pct(r["share_of_us_category_imports_pct"], sign=False),
        ]
        for r in mix.rows
    ]
    if mix.year is None:
        title, empty = "ATP group mix", "No full year (12 months) is loaded yet."
    else:
        # A year given by --year may be in progress: its title says which months.
        chosen = " (latest full year)" if months is None else period_and_basis(mix.year, months)[0]
        title = f"ATP group mix, {mix.year}{chosen}"
        empty = (
            "The marts keep the ATP group mix for countries only, not for groupings."
            if found.kind != "country"
            else f"No ATP trade recorded in {mix.year}."
        )
    return Table([], [], title=title, headers=headers, display=display, left={0, 1}, empty=empty)


def _partner_goods_table(years: list[dict[str, Any]]) -> Table:
    unit = _unit(years, "goods_imports_usd", "goods_exports_usd", "goods_trade_usd")
    headers = ["Year", "Months", f"Imports {unit.label}", f"Exports {unit.label}"]
    headers += [f"Trade {unit.label}", f"Balance {unit.label}", "Trade YoY %", "ATP % of imports"]
    display = []
    for y in years:
        if not y["has_trade"]:
            display.append([str(y["year"]), str(y["months_covered"])] + [NO_TRADE] * 6)
            continue
        display.append(
            [
                str(y["year"]),
                str(y["months_covered"]),
                money(y["goods_imports_usd"], unit),
                money(y["goods_exports_usd"], unit),
                money(y["goods_trade_usd"], unit),
                money(y["goods_balance_usd"], unit, sign=True),
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


def _unit(rows: list[dict[str, Any]], *columns: str) -> Unit:
    """The dollar unit of a table: $ bn, or $ mn when its largest value is under a billion."""
    return money_unit(row[c] for row in rows for c in columns)


# -- atp category -----------------------------------------------------------------------------


def category(args: argparse.Namespace, settings: Settings) -> str:
    flow = args.flow
    with open_published(settings.published) as con:
        group = find_category(con, args.category)
        months = require_year(con, args.year)
        rows = category_partners(con, group, args.year, flow, args.top)
        source = source_of(con)
    table = _category_table(group, args.year, months, flow, rows, source)
    document = {
        "title": table.title,
        "year": args.year,
        "flow": flow,
        "months_covered": months,
        "hitech_code": group.code,
        "category_name": group.name,
        "partners": table.records(),
        "source": source,
    }
    for record in document["partners"]:
        del record["year"], record["months_covered"], record["hitech_code"]
        del record["category_name"]
    return render_tables([table], args.format, document)


def _category_table(
    group: Category,
    year: int,
    months: int,
    flow: str,
    rows: list[dict[str, Any]],
    source: str = SOURCE,
) -> Table:
    columns = ["rank", "partner_code", "partner_name", f"{flow}_usd", f"{flow}_change_usd"]
    columns += [f"{flow}_yoy_pct", f"share_of_us_category_{flow}_pct"]
    columns += [f"share_of_partner_atp_{flow}_pct", "balance_usd"]
    rows = [_displayed(r) for r in rows]
    unit = _unit(rows, f"{flow}_usd", f"{flow}_change_usd", "balance_usd")
    period, basis = period_and_basis(year, months)
    noun = plural(len(rows), "source" if flow == "imports" else "destination")
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
        source,
    ]
    return Table(
        columns=["year", "months_covered", "hitech_code", "category_name", *columns],
        rows=[[year, months, group.code, group.name, *(r[c] for c in columns)] for r in rows],
        title=f"Top {noun} of U.S. {group.label} {flow}, {year}{period} "
        f"({basis}; balance = exports - imports)",
        headers=["Rank", "Partner", f"{flow.capitalize()} {unit.label}", f"Change {unit.label}"]
        + ["YoY %", "Share %", "% of partner ATP", f"Balance {unit.label}"],
        display=[
            [
                str(r["rank"]),
                f"{r['partner_name']} ({r['partner_code']})",
                money(r[f"{flow}_usd"], unit),
                money(r[f"{flow}_change_usd"], unit, sign=True),
                pct(r[f"{flow}_yoy_pct"]),
                pct(r[f"share_of_us_category_{flow}_pct"], sign=False),
                pct(r[f"share_of_partner_atp_{flow}_pct"], sign=False),
                money(r["balance_usd"], unit, sign=True),
            ]
            for r in rows
        ],
        left={1},
        notes=notes,
        empty=f"No partner traded {group.name} in {year}.",
    )


# -- atp sql ------------------------------------------------------------------------------------


# The most rows `atp sql` shows for people (table, markdown): aligning them holds them all in
# memory. csv and json write every row as it comes.
SHOWN_ROWS = 1000


def sql(args: argparse.Namespace, settings: Settings) -> str:
    """Run the query within its time limit (--timeout, else ATP_SQL_TIMEOUT_SECONDS). csv and
    json are written as the rows come, all but their last piece, which is returned as every
    command's output is."""
    query = args.query
    if query == "-":
        query = sys.stdin.read()
    timeout = getattr(args, "timeout", None)
    seconds = settings.sql_timeout_seconds if timeout is None else timeout
    with open_published(settings.published) as con, TimeLimit(con, seconds) as limit:
        published = publication(con)
        result = run_query(con, query, limit)
        if args.format == "json":
            records = (dict(zip(result.columns, row, strict=True)) for row in result.rows)
            return _streamed(json_pieces(records))
        if args.format == "csv":
            return _streamed(csv_pieces(result.columns, result.rows))
        shown = list(itertools.islice(result.rows, SHOWN_ROWS))
        more = sum(1 for _ in result.rows)  # counted, not kept
    # For people: numbers readable (csv and json keep DuckDB's exact values); data that is not
    # the Census Bureau's says so under the rows.
    table = Table(result.columns, shown)
    table.display = sql_display(table, align=args.format == "table")
    if more:
        table.notes.append(
            f"(the first {SHOWN_ROWS:,} of {plural(SHOWN_ROWS + more, 'row')} shown; {more:,} "
            "more with --format csv)"
        )
    elif args.format == "table":
        table.notes.append(f"({plural(len(shown), 'row')})")
    if not is_census(published):
        table.notes.append(source_line(published))
    return render_tables([table], args.format)


def _streamed(pieces: Iterator[str]) -> str:
    """Write the pieces of an output to stdout as they come, all but the last: returned."""
    last = next(pieces)
    for piece in pieces:
        try:
            sys.stdout.write(last)
        except BrokenPipeError:  # `atp sql ... | head` stopped reading: stop the query too
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return ""
        last = piece
    return last


# -- atp export ---------------------------------------------------------------------------------


# `atp export` without --out: relative to the directory the command runs in.
EXPORT_DIR = Path("data") / "export"


def export(args: argparse.Namespace, settings: Settings) -> str:
    out = Path(args.out or EXPORT_DIR).expanduser().resolve()
    with open_published(settings.published) as con:
        published = publication(con)
        tables = export_marts(con, out, args.format)
        descriptions = mart_descriptions(con)
    readme = out / "README.md"
    write_atomic(
        readme, export_readme(tables, descriptions, settings.published, published, args.format)
    )
    lines = [f"Exported {plural(len(tables), 'mart table')} ({args.format}) to {out}:"]
    lines += [
        f"  {t.path.name}: {plural(t.rows, 'row')}, {plural(len(t.columns), 'column')}"
        for t in tables
    ]
    lines.append(f"  {readme.name}: the tables and their columns")
    if not is_census(published):
        lines.append(source_line(published))
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
        f"are in percent (35.2, not 0.352). {source_line(published)}",
        "",
        "Column descriptions: the dbt models' documentation, as the published copy stores it "
        "(DuckDB comments).",
    ]
    for table in tables:
        lines += ["", f"## {table.name}", ""]
        lines += [f"File `{table.path.name}`: {plural(table.rows, 'row')}."]
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
    return f"wrote {write_html_report(settings.published, out, args.year)}"


# -- atp brief --------------------------------------------------------------------------------


def brief(args: argparse.Namespace, settings: Settings) -> str:
    """The brief in markdown (default), html (a page with charts) or json; with --out, written
    to the file (atomically) and the path printed."""
    from analyst import brief as words
    from analyst.formats import render_json
    from ingest.files import write_atomic

    partner = " ".join(args.partner) if isinstance(args.partner, list) else args.partner
    with open_published(settings.published, required=words.BRIEF_MARTS) as con:
        data = words.load_brief(con, partner, _brief_year(con, args.year), args.flow)
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


def _brief_year(con: duckdb.DuckDBPyConnection, year: int | None) -> int:
    """--year, else the latest full year (as `atp html --partner`)."""
    if year is not None:
        return year
    latest = latest_full_year(con)
    if latest is None:
        raise AnalystError("no full calendar year is loaded yet: give --year.")
    return latest


# -- atp digest -------------------------------------------------------------------------------


def digest(args: argparse.Namespace, settings: Settings) -> str:
    from analyst import digest as release  # loads only when it runs: `atp` starts fast

    return release.render(release.digest(settings), args.format)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], str]] = {
    "report": report,
    "products": products,
    "html": html,
    "partner": partner,
    "category": category,
    "sql": sql,
    "export": export,
    "brief": brief,
    "digest": digest,
}
