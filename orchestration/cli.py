"""The `atp` command line: the pipeline commands (run, refresh, rebuild, prepare) and, mounted
from `analyst.cli`, the analyst commands. Settings are read here once, for every command.

Dagster loads only for the pipeline commands, so the analyst commands start fast. Every error,
including a bad argument, is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from analyst import cli as analyst_cli
from ingest.demo_data import demo_fallback, fallback_note
from ingest.errors import AtpError
from ingest.settings import Settings, census_today


class UsageError(Exception):
    """A bad command line, reported in one line instead of argparse's usage block."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse calls this for any bad argument
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")

    def parse_args(self, args=None, namespace=None):
        found, extras = self.parse_known_args(args, namespace)
        if extras:
            # argparse reports them from the top parser; they were meant for the subcommand.
            self._subcommand(found).error(f"unrecognized arguments: {' '.join(extras)}")
        return found

    def _subcommand(self, found: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the subcommand in `found` (its own `_Parser`), else this one."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                parser = action.choices.get(getattr(found, action.dest, None))
                if parser is not None:
                    return parser
        return self


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="atp",
        description="U.S. advanced technology products trade warehouse.",
        epilog=analyst_cli.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pipeline = [
        commands.add_parser(
            "run", help="fetch every year partition from the Census API, load it, then dbt build"
        ),
        commands.add_parser(
            "refresh",
            help="refresh the years that can still change (as the nightly schedule does); when "
            "anything changed, dbt build and publish",
        ),
        commands.add_parser(
            "rebuild",
            help="reload the raw tables from the landing zone (no network), then dbt build",
        ),
    ]
    for command in pipeline:
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="also print dbt's own progress lines (or set ATP_VERBOSE=1)",
        )
        command.add_argument(
            "--no-queue",
            dest="queue",
            action="store_false",
            help="run in this process even when a Dagster daemon serves DAGSTER_HOME (by "
            "default the run joins the daemon's run queue, with the daemon's settings)",
        )
        if command.prog.split()[-1] != "rebuild":  # a rebuild takes what was landed anyway
            command.add_argument(
                "--accept-fewer-months",
                action="store_true",
                help="take an answer that lacks months already held (a release Census withdrew); "
                "by default such a year is kept as stored, with a warning naming the months",
            )
        command.set_defaults(handler=_pipeline)
    commands.add_parser(
        "prepare", help="parse the dbt project for ATP_WAREHOUSE (what `make prepare` runs)"
    ).set_defaults(handler=_prepare)
    commands.add_parser(
        "check-api",
        help="check the Census API before a first run: variables, one small keyed request per "
        "flow checked as the pipeline would",
        description="Reads each endpoint's variables.json (no key needed) and checks that every "
        "variable the pipeline requests is listed; then, with CENSUS_API_KEY, makes one small "
        "request per flow (the newest month due) and checks its header, total markers, value "
        "types, reconciliation and number of countries. With product detail on (ATP_PRODUCTS), "
        "also the hs endpoints' variables and that year's two ATP code lists. Exit 1 if any "
        "check fails.",
    ).set_defaults(handler=_check_api)
    analyst_cli.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    try:
        if args.handler not in (_pipeline, _prepare, _check_api) and (demo := demo_fallback()):
            # Only the demo has data (after `make demo` alone): show it, and say so.
            os.environ.update(demo)
            print(f"atp {args.command}: {fallback_note(demo)}", file=sys.stderr)
        return args.handler(args, Settings.from_env())
    except AtpError as exc:
        print(f"atp {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside a run's steps (start-up, a prompt): nothing to report
        print(f"atp {args.command}: interrupted", file=sys.stderr)
        return 130


def _pipeline(args: argparse.Namespace, settings: Settings) -> int:
    _load_pipeline_code()
    # Dagster's documented switch for single-run backfills: one "planned" event per asset for
    # the whole year range, not one per asset and year (bench/README.md). Set here, in the
    # command's own process, never by code that tests or the webserver import.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    from orchestration.runner import run_pipeline
    from orchestration.schedules import refresh_years

    verbose = args.verbose or settings.verbose
    if args.command == "refresh":
        years = refresh_years(census_today(), settings.start_year, settings.release_lag_days)
        return run_pipeline(
            settings,
            years=years,
            only_if_changed=True,
            accept_fewer_months=args.accept_fewer_months,
            command="refresh",
            verbose=verbose,
            queue=args.queue,
        )
    source = "api" if args.command == "run" else "landing"
    return run_pipeline(
        settings,
        source=source,
        accept_fewer_months=getattr(args, "accept_fewer_months", False),
        command=args.command,
        verbose=verbose,
        queue=args.queue,
    )


def _prepare(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.dbt_project import prepare_dbt

    print(f"dbt manifest for {settings.warehouse}: {prepare_dbt(settings.warehouse)}")
    return 0


def _check_api(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.api_check import check_api

    rows = check_api(
        settings.base_url,
        settings.api_key,
        census_today(),
        settings.release_lag_days,
        atp_codes_base_url=settings.atp_codes_base_url if settings.products else None,
    )
    width = max(len(row.check) for row in rows)
    print(f"Census API at {settings.base_url}")
    for row in rows:
        print(f"  {row.check:<{width}}  {'ok  ' if row.ok else 'FAIL'}  {row.detail}")
    failed = [row for row in rows if not row.ok]
    if failed:
        print(f"atp check-api: {failed[0].detail}", file=sys.stderr)
    return 1 if failed else 0


def _load_pipeline_code() -> None:
    """Import Dagster, dbt's manifest and the definitions with the garbage collector off, then
    freeze what they left (~300,000 long-lived objects), so that it does not scan them again
    and again during the run and at exit (bench/README.md)."""
    gc.disable()
    try:
        import orchestration.runner  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
