"""The analyst subcommands of `atp` (report, partner, category, products, sql, export, html,
brief, digest, status):
read-only, on the published copy (ATP_PUBLISHED). `register` adds them to the `atp` parser; their
modules load only when one runs, and only DuckDB, so they start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.errors import AtpError
from ingest.settings import Settings

TABLE_FORMATS = ("table", "csv", "json", "markdown")
FIGURES_HELP = (
    "table: aligned text (default); csv, json: whole dollars and unrounded percent, machine "
    "column names; markdown: a GitHub table"
)
EXAMPLES = """\
analyst commands (read the published, read-only copy of the marts, ATP_PUBLISHED, default
data/atp.duckdb, that every successful `make run` refreshes):
  atp report --year 2025 --top 5 --format markdown
  atp partner mexico                      # or a code: atp partner 2010
  atp category aerospace --year 2025 --flow exports
  atp sql "SELECT year, atp_imports_usd FROM marts.fct_us_atp_year ORDER BY year"
  atp export --format csv                 # to data/export/ (or --out DIR)
  atp brief mexico --year 2024            # the story: headline, drivers, the mart of each figure
  atp products mexico --year 2024         # the 10-digit products behind the change
  atp html --partner mexico               # a brief page with its charts
  atp status                              # last checked, changed, published; next refresh
  atp digest                              # what the latest publication brought
"""
# The ATP groups as dbt_project/seeds/atp_categories.csv has them (a test keeps the two equal):
# `atp category --help` lists them without opening the warehouse.
ATP_GROUPS = (
    ("01", "Biotechnology"),
    ("02", "Life Science"),
    ("03", "Opto-Electronics"),
    ("04", "Information & Communications"),
    ("05", "Electronics"),
    ("06", "Flexible Manufacturing"),
    ("07", "Advanced Materials"),
    ("08", "Aerospace"),
    ("09", "Weapons"),
    ("10", "Nuclear Technology"),
)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the analyst subcommands; each runs through `run`."""
    report = commands.add_parser(
        "report",
        help="top partners for one year",
        description="The top partners of one year: ATP value, change and YoY % against the same "
        "months of the year before, share of the U.S. total, ATP balance; then the U.S. total. "
        "csv and json give whole dollars and unrounded percentages.",
    )
    _year_option(report)
    _flow_option(report)
    _top_option(report, "partners")
    _format_option(report, TABLE_FORMATS, FIGURES_HELP)

    partner = commands.add_parser(
        "partner",
        help="one partner's profile: ATP trade by year, ATP group mix, goods trade",
        description="One partner's profile: ATP imports, exports and balance for every loaded "
        "year, with YoY %, share of the U.S. total and rank among countries; its ATP group mix "
        "in the latest full year (or --year); its total goods trade by year. A Census grouping (e.g. "
        "'european union', 0003) works too, without rank or group mix.",
    )
    partner.add_argument(
        "partner",
        nargs="+",
        metavar="CODE_OR_NAME",
        help="a Census code (2010, exact) or a name (mexico, 'Korea, South'; case and "
        "punctuation ignored, a part of a name if only one partner has it), or an everyday "
        "name Census spells otherwise (south korea, uk, uae, czechia, russia)",
    )
    _year_option(
        partner,
        required=False,
        help="the year of the ATP group mix, e.g. 2024 (default: the latest full year); the "
        "by-year tables show every loaded year",
    )
    _format_option(
        partner,
        ("table", "json", "markdown"),
        "table: aligned text (default); json: whole dollars and unrounded percent; markdown: "
        "GitHub tables",
    )

    category = commands.add_parser(
        "category",
        help="top partners within one ATP group for one year",
        description="The largest partners within one ATP group (01-10): value, change, YoY %,\n"
        "the partner's share of the U.S. total of the group, the group's share of the\n"
        "partner's ATP trade, and the group's balance.",
        epilog="ATP groups (code or name):\n"
        + "\n".join(f"  {code}  {name}" for code, name in ATP_GROUPS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    category.add_argument(
        "category",
        metavar="CODE_OR_NAME",
        help="an ATP group code (08 or 8) or name (aerospace; case ignored, a part of a name "
        "if only one group has it)",
    )
    _year_option(category)
    _flow_option(category)
    _top_option(category, "partners")
    _format_option(category, TABLE_FORMATS, FIGURES_HELP)

    sql = commands.add_parser(
        "sql",
        help="run one read-only SQL query on the published marts",
        description="Run one read-only query (SELECT, FROM, WITH, DESCRIBE, SHOW, SUMMARIZE, "
        "EXPLAIN, PRAGMA, CALL) on the published marts; mart tables can be named without "
        "`marts.`. Statements that write (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, COPY, "
        "...) are refused, and the session cannot read or write files. A query is stopped after "
        "--timeout seconds; table and markdown show its first 1,000 rows, csv and json all.",
    )
    sql.add_argument("query", metavar="SQL", help="the query, or - to read it from stdin")
    _format_option(
        sql,
        TABLE_FORMATS,
        "table: aligned text (default); csv, json: the values as DuckDB returns them (NULL is "
        "empty / null); markdown: a GitHub table",
    )
    sql.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="stop the query after SECONDS (default: ATP_SQL_TIMEOUT_SECONDS, 60; 0: no limit)",
    )

    export = commands.add_parser(
        "export",
        help="write every mart table to files, with a README of their columns",
        description="Write every table of schema marts to DIR, one file per table, and "
        "DIR/README.md listing each table's columns (name, type, dbt description). Existing "
        "files of the same names are replaced.",
    )
    export.add_argument(
        "--out",
        metavar="DIR",
        help="output directory (default: data/export, relative to the current directory)",
    )
    export.add_argument(
        "--format", choices=("parquet", "csv"), default="parquet", help="file format (parquet)"
    )

    html = commands.add_parser(
        "html",
        help="write the HTML report (tables and charts) from the published marts",
        description="Write DIR/index.html: one self-contained page (no network needed) with one "
        "year's top partners and charts of the marts (the latest full year unless --year). "
        "`make run` writes it too.",
    )
    html.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output directory (default: ATP_REPORT_DIR, data/report)",
    )
    html.add_argument(
        "--partner",
        nargs="+",
        metavar="CODE_OR_NAME",
        help="write DIR/brief-<code>-<year>-<flow>.html instead: one partner's brief (as `atp "
        "brief`) with its charts",
    )
    html.add_argument(
        "--year",
        type=_year,
        help="the year of the page, or with --partner of the brief (default: the latest full "
        "year; a year in progress shows its months against the same months before)",
    )
    html.add_argument(
        "--flow",
        choices=["imports", "exports"],
        default="imports",
        help="with --partner: the flow of the brief (imports)",
    )

    brief = commands.add_parser(
        "brief",
        help="the story behind one partner's ATP numbers in one year, in words",
        description="One partner's year in words, from the published marts: its ATP trade with "
        "the U.S. in the flow ($ billions), the change in dollars and percent against the same "
        "months of the year before, its share of the U.S. total and rank, the leading partner; "
        "the top 5; U.S. totals; the other direction and the balance; total goods trade; and "
        "what drove the change (ATP groups by contribution, in dollars and percentage points). "
        "Worded from the partner's side: --flow imports is its ATP exports to the U.S. A "
        "grouping (e.g. 'european union') works too, without rank or drivers.",
    )
    brief.add_argument(
        "partner",
        nargs="+",
        metavar="CODE_OR_NAME",
        help="a Census code (2010, exact) or a name (mexico, 'Korea, South'), as `atp partner`",
    )
    _year_option(
        brief, required=False, help="calendar year, e.g. 2024 (default: the latest full year)"
    )
    _flow_option(brief)
    brief.add_argument(
        "--format",
        choices=("markdown", "html", "json"),
        default="markdown",
        help="markdown (default); html: a self-contained page with the partner's charts; json: "
        "the words and every mart row behind them (whole dollars, unrounded percent)",
    )
    brief.add_argument(
        "--out", type=Path, metavar="FILE", help="write to FILE instead of standard output"
    )

    products = commands.add_parser(
        "products",
        help="which 10-digit products drove one partner's ATP trade in a year",
        description="The products (10-digit codes on the year's ATP code list) of one country's "
        "ATP trade with the U.S. in a year: value, change and YoY % against the same months of "
        "the year before, and each product's contribution in points to the partner's ATP change "
        "(the points of all its products add up to its ATP YoY %). Largest change first, or "
        "--by value. csv and json give whole dollars and unrounded percentages.",
    )
    products.add_argument(
        "partner",
        nargs="+",
        metavar="CODE_OR_NAME",
        help="a country's Census code (2010) or name (mexico), as `atp partner`",
    )
    _year_option(
        products,
        required=False,
        help="calendar year, e.g. 2024 (default: the latest full year)",
    )
    _flow_option(products)
    products.add_argument(
        "--group",
        metavar="CODE_OR_NAME",
        help="only one ATP group's products, as `atp category` takes it (08, aerospace)",
    )
    _top_option(products, "products")
    products.add_argument(
        "--by",
        choices=("change", "value"),
        default="change",
        help="order by the change in dollars, largest either way (default), or by value",
    )
    _format_option(products, TABLE_FORMATS, FIGURES_HELP)

    digest = commands.add_parser(
        "digest",
        help="what the latest publication brought: months arrived or revised, the newest month, "
        "the partners that moved most, the largest revisions",
        description="The release digest of the published copy: which months arrived or were "
        "revised, the newest month's U.S. ATP imports and exports against the same month a "
        "year before and the year to date, the partners that moved most (year to date, top 5 "
        "per flow) and the largest revisions (top 5). The pipeline writes it beside the copy "
        "(<published stem>.digest.md, .html, .json).",
    )
    digest.add_argument(
        "--format",
        choices=("markdown", "html", "json"),
        default="markdown",
        help="markdown (default); html: one self-contained page; json: whole dollars, "
        "unrounded percent, the marts' column names",
    )

    for parser in (report, partner, category, products, sql, export, html, brief, digest):
        parser.set_defaults(handler=run)

    commands.add_parser(
        "status",
        help="how current the data is: newest month, last checked, changed, published, next "
        "refresh; exit 1 when behind Census's release calendar",
        description="One screen on the published copy's freshness: the newest month it holds, "
        "when the pipeline last checked the API, when the data last changed, when it was "
        "published, the next scheduled refresh (ATP_REFRESH_CRON) and the release warning. "
        "Exit status 1 when the copy is behind the newest month Census should have released.",
    ).set_defaults(handler=run_status)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one analyst command; its output on stdout, an error as one line on stderr (exit 2)."""
    from analyst.commands import run as command
    from analyst.formats import one_line

    if args.command == "partner":
        args.partner = " ".join(args.partner)
    try:
        output = command(args, settings)
    except AtpError as exc:
        print(f"atp {args.command}: {one_line(exc)}", file=sys.stderr)
        return 2
    return _emit(output)


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    from analyst.formats import one_line
    from analyst.status import status

    try:
        found = status(settings)
    except AtpError as exc:
        print(f"atp status: {one_line(exc)}", file=sys.stderr)
        return 2
    _emit(found.text)
    return 1 if found.behind else 0


def _emit(text: str) -> int:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `atp sql ... | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


def _year_option(
    parser: argparse.ArgumentParser,
    required: bool = True,
    help: str = "calendar year, e.g. 2024 (must be loaded)",
) -> None:
    parser.add_argument("--year", type=_year, required=required, help=help)


def _flow_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flow", choices=["imports", "exports"], default="imports", help="trade flow (imports)"
    )


def _top_option(parser: argparse.ArgumentParser, noun: str) -> None:
    parser.add_argument("--top", type=_positive_int, default=10, help=f"how many {noun} (10)")


def _format_option(parser: argparse.ArgumentParser, formats: tuple[str, ...], text: str) -> None:
    parser.add_argument("--format", choices=formats, default="table", help=text)


def _year(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1000 <= value <= 9999:
        raise argparse.ArgumentTypeError(f"expected a four-digit year such as 2024, got {text!r}")
    return value


def _seconds(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a whole number of seconds (0: none), got {text!r}"
        )
    return int(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value
