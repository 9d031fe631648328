"""`atp run` / `atp rebuild`: one Dagster run that loads a range of year partitions, then dbt build.

Runs in-process against the Dagster instance in DAGSTER_HOME (the Makefile points it at
`.dagster/`), so `make dev` shows these runs, their materializations and checks.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout

import dagster as dg

from ingest.census_format import FLOWS
from ingest.freshness import read_freshness
from ingest.preflight import check_paths
from ingest.settings import Settings
from orchestration.dbt_assets import atp_dbt_models
from orchestration.definitions import PIPELINE_JOB, build_definitions
from orchestration.raw_assets import RAW_STEP, raw_asset_key
from orchestration.run_health import wait_for_live_runs
from orchestration.schedules import partition_range_tags

DBT_STEP = atp_dbt_models.op.name
_STEP_NAMES = {
    RAW_STEP: "raw load",
    DBT_STEP: "dbt build",
    "published__atp_warehouse": "publish",
    "published__html_report": "HTML report",
}
# What Dagster reports for a step stopped by Ctrl-C.
_INTERRUPTS = ("DagsterExecutionInterruptedError", "KeyboardInterrupt")
ERROR = dg.AssetCheckSeverity.ERROR
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline(
    settings: Settings,
    source: str = "api",
    years: Sequence[int] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    out: Callable[[str], None] | None = None,
    rebuild_unchanged: bool = False,
    verbose: bool = False,
) -> int:
    """Load the raw partitions of `years` (consecutive; default: every year due) from `source`
    ("api" or "landing"); if anything changed (or `rebuild_unchanged`), build every dbt model
    and test, then publish. Returns a process exit code. dbt's own progress lines (which
    dagster-dbt writes to stdout) show only when `verbose`."""
    out = out or _printer(sys.stdout)
    if source == "api":
        settings.require_api_key()  # fail before any request
    check_paths(settings, source=source)
    defs = build_definitions(settings)

    years = list(years) if years is not None else settings.years()
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"years must be consecutive, got {years}")
    verb = "fetching from the Census API" if source == "api" else "reloading from the landing zone"
    instance = instance or _instance()
    # One run at a time: after a dead run is cleaned up, wait (sleeping) for live ones, UI,
    # schedule or command line. The run queue in turn counts this run while it is in progress.
    wait_for_live_runs(instance, settings.warehouse, out)
    out(f"Raw partitions {years[0]}..{years[-1]} ({verb}) into {settings.warehouse}")
    with _progress_to(out), _hidden_stdout(not verbose):
        result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
            instance=instance,
            tags=partition_range_tags(years),
            run_config={
                "ops": {
                    RAW_STEP: {
                        "config": {"source": source, "rebuild_unchanged": rebuild_unchanged}
                    },
                    # A rebuild from the landing zone rebuilds every model from scratch too.
                    DBT_STEP: {"config": {"full_refresh": source == "landing"}},
                },
                **_QUIET,
            },
            raise_on_error=False,
        )
    return report(result, out, settings)


def report(
    result: dg.ExecuteInProcessResult, out: Callable[[str], None], settings: Settings
) -> int:
    """Print what the run did (failures, dbt models and tests) and return an exit code."""
    failures = _step_failures(result)
    if any(error.cls_name in _INTERRUPTS for _, error in failures):
        loaded = sorted(
            f"{event.asset_key.path[-1].removeprefix('census_hitech_')} {event.partition}"
            for event in result.get_asset_materialization_events()
            if event.asset_key in {raw_asset_key(flow) for flow in FLOWS}
        )
        out(f"interrupted; loaded so far: {', '.join(loaded) or 'nothing'}")
        return 130
    for step, error in failures:
        what = _STEP_NAMES.get(step, "release check")
        first, *more = _message(error).splitlines()
        out(f"  FAILED {what}: {first}")
        for line in more:
            out(f"    {line}")
    if any(step == RAW_STEP for step, _ in failures):
        out("dbt build skipped: a raw partition failed to load. Fix the cause and run again.")
        return 1
    materialized = result.get_asset_materialization_events()
    if not failures and not any(e.asset_key.path[0] == "raw" for e in materialized):
        for line in _warning_lines(result.get_asset_check_evaluations()):  # the release check
            out(line)
        since = read_freshness(settings.published).last_changed
        when = f"{since:%Y-%m-%d %H:%M} UTC" if since else "the first run"
        out(f"Nothing new since {when}; published copy unchanged.")
        return 0
    dbt_assets = [e for e in materialized if e.asset_key.path[0] not in ("raw", "published")]
    published = [e for e in materialized if e.asset_key.path[0] == "published"]
    checks = result.get_asset_check_evaluations()
    dbt_tests = [c for c in checks if c.asset_key.path[0] != "raw"]
    # A warn-level dbt test (a small reconciliation gap, an unknown code) passes the build.
    failed_checks = [c for c in dbt_tests if not c.passed and c.severity == ERROR]
    warnings = _warning_lines(checks)
    out(
        f"dbt build: {len(dbt_assets)} models and seeds built, "
        f"{len(dbt_tests) - len(failed_checks)}/{len(dbt_tests)} tests passed"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    for check in failed_checks:
        out(f"  FAILED test {check.check_name} on {check.asset_key.to_user_string()}")
    for line in warnings:
        out(line)
    if failures or failed_checks or not result.success:
        out("dbt build failed: the marts keep their previous contents where a test failed.")
        return 1
    for event in published:
        metadata = event.materialization.metadata
        if "tables" in metadata:
            out(
                f"Published {metadata['tables'].value} mart tables (data through "
                f"{metadata['newest_month'].value}) to {metadata['path'].value}"
            )
        else:
            out(f"Wrote the HTML report {metadata['path'].value}")
    out("Done.")
    return 0


def _printer(stream) -> Callable[[str], None]:
    def write(line: str) -> None:
        print(line, file=stream, flush=True)

    return write


@contextmanager
def _hidden_stdout(hide: bool) -> Iterator[None]:
    if not hide:
        yield
        return
    with open(os.devnull, "w") as devnull, redirect_stdout(devnull):
        yield


class _Progress(logging.Handler):
    def __init__(self, out: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        self.out("  " + record.getMessage())


class _progress_to:
    """Print the ingest package's log lines (one per partition, retries) while a run executes."""

    def __init__(self, out: Callable[[str], None]):
        self.handler = _Progress(out)
        self.logger = logging.getLogger("ingest")

    def __enter__(self):
        self.level = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _warning_lines(checks) -> list[str]:
    """One line per warning; the release check, on both raw tables, says it once."""
    lines = [
        f"  WARNING {check.check_name}: {_warning(check)}"
        for check in checks
        if not check.passed and check.severity != ERROR
    ]
    return list(dict.fromkeys(lines))


def _warning(check) -> str:
    """One line: the release check's own description, or what dbt said of a warn-level test."""
    if check.description:
        return check.description
    metadata = check.metadata or {}
    count = metadata.get("dagster_dbt/failed_row_count")
    rows = f"{count.value} row(s)" if count is not None else "some rows"
    return f"{rows} on {check.asset_key.to_user_string()} (stored in dbt_test__audit)"


def _step_failures(result: dg.ExecuteInProcessResult) -> list:
    return [
        (event.step_key, event.step_failure_data.error)
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.error is not None
    ]


def _message(error) -> str:
    # Dagster wraps the exception an asset raised; the innermost one says what went wrong.
    while error.cause is not None:
        error = error.cause
    message = error.message.strip() or error.cls_name
    prefix, _, rest = message.partition(": ")
    return rest if prefix.split(".")[-1] == error.cls_name else message


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()
