"""The `atp` command line: run the pipeline, rebuild offline, report on the marts."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ingest.errors import AtpError
from ingest.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atp", description="U.S. advanced technology products trade warehouse."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="fetch every year partition from the Census API, load it, then dbt build"
    )
    commands.add_parser(
        "refresh",
        help="refresh the years that can still change (as the nightly schedule does), then "
        "dbt build and publish",
    )
    commands.add_parser(
        "rebuild", help="reload the raw tables from the landing zone (no network), then dbt build"
    )
    report = commands.add_parser("report", help="top partners for one year")
    report.add_argument("--year", type=int, required=True, help="calendar year, e.g. 2024")
    report.add_argument("--flow", choices=["imports", "exports"], default="imports")
    report.add_argument("--top", type=_positive_int, default=10, help="how many partners (10)")
    args = parser.parse_args(argv)
    try:
        if args.command == "report":
            from orchestration.report import top_partners

            print(top_partners(Settings.from_env().published, args.year, args.flow, args.top))
            return 0
        from orchestration.runner import run_pipeline

        if args.command == "refresh":
            from orchestration.schedules import refresh_years

            settings = Settings.from_env()
            return run_pipeline(years=refresh_years(date.today(), settings.start_year))
        return run_pipeline(source="api" if args.command == "run" else "landing")
    except AtpError as exc:
        print(f"atp {args.command}: {exc}", file=sys.stderr)
        return 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
