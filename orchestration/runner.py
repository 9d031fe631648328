"""`atp run` / `atp rebuild`: one Dagster run that loads a range of year partitions, then dbt build.

Runs in-process against the Dagster instance in DAGSTER_HOME (the Makefile points it at
`.dagster/`), so `make dev` shows these runs, their materializations and checks; or, when a
Dagster daemon serves that instance, in the daemon's run queue, which this process follows.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from ingest.datasets import FLOWS
from ingest.freshness import read_freshness
from ingest.preflight import check_paths
from ingest.settings import Settings
from orchestration.alerting import alert_run_failed, error_message, failure_text
from orchestration.dbt_assets import DBT_STEP, FAILING_ROWS_TABLE
from orchestration.definitions import PIPELINE_JOB, build_definitions
from orchestration.raw_assets import RAW_STEP, raw_asset_key
from orchestration.run_health import wait_for_live_runs
from orchestration.run_queue import daemon_serves, follow, submit
from orchestration.schedules import partition_range_tags
from orchestration.tags import COMMAND_TAG, OUTCOME_TAG

_STEP_NAMES = {
    RAW_STEP: "raw load",
    DBT_STEP: "dbt build",
    "published__atp_warehouse": "publish",
    "published__html_report": "HTML report",
    "published__release_digest": "release digest",
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
    only_if_changed: bool = False,
    accept_fewer_months: bool = False,
    command: str = "run",
    verbose: bool = False,
    queue: bool = True,
) -> int:
    """Load the raw partitions of `years` (consecutive; default: every year due) from `source`
    ("api" or "landing"), build every dbt model and test, then publish; with `only_if_changed`
    (a refresh), build and publish only if the published copy is behind (see
    `Freshness.unpublished`). The run is tagged with `command`. Returns a process exit code.
    dbt's own progress lines (which dagster-dbt writes to stdout) show only when `verbose`.
    With `queue`, when a Dagster daemon serves the instance, the run joins its queue (see
    `orchestration.run_queue`) and this process follows it."""
    out = out or _printer(sys.stdout)
    if source == "api":
        settings.require_api_key()  # fail before any request
    check_paths(settings, source=source)

    years = list(years) if years is not None else settings.years()
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"years must be consecutive, got {years}")
    verb = "fetching from the Census API" if source == "api" else "reloading from the landing zone"
    instance = instance or _instance()
    tags = {**partition_range_tags(years), COMMAND_TAG: command}
    raw_config = {"source": source, "accept_fewer_months": accept_fewer_months}
    run_config = {
        "ops": {
            RAW_STEP: {"config": raw_config},
            DBT_STEP: {
                "config": {
                    # A rebuild from the landing zone rebuilds every model from scratch.
                    "full_refresh": source == "landing",
                    "only_if_changed": only_if_changed,
                }
            },
        }
    }
    if queue and daemon_serves(instance):
        # The daemon's worker reads its own settings: it refuses a run meant for another file.
        raw_config["warehouse"] = str(settings.warehouse)
        out(f"Raw partitions {years[0]}..{years[-1]} ({verb}) into {settings.warehouse}")
        run_id = submit(PIPELINE_JOB, run_config, tags)
        out(
            f"Queued as run {run_id[:8]} with the Dagster daemon (the UI shows it); "
            "following it, Ctrl-C cancels it"
        )
        run, canceled = follow(instance, run_id, out)
        if run.status == dg.DagsterRunStatus.CANCELED:
            out(f"Run {run_id[:8]} was canceled{'' if canceled else ' (from the UI)'}.")
            return 130 if canceled else 1
        # A failure is alerted and tagged by the daemon's run failure sensor.
        return report(RunEvents.of_run(instance, run), out, settings)
    # One run at a time: after a dead run is cleaned up, wait (sleeping) for live ones, UI,
    # schedule or command line. The run queue in turn counts this run while it is in progress.
    wait_for_live_runs(instance, out)
    out(f"Raw partitions {years[0]}..{years[-1]} ({verb}) into {settings.warehouse}")
    with _progress_to(out), _hidden_stdout(not verbose):
        result = (
            build_definitions(settings)
            .resolve_job_def(PIPELINE_JOB)
            .execute_in_process(
                instance=instance,
                tags=tags,
                run_config={**run_config, **_QUIET},
                raise_on_error=False,
            )
        )
    events = RunEvents.of_result(result)
    code = report(events, out, settings)
    if code:
        instance.add_run_tags(result.run_id, {OUTCOME_TAG: "failed"})
        if code != 130:  # Ctrl-C is the operator's own doing
            failures = failure_text(events.step_failures())
            for line in alert_run_failed(
                settings, result.run_id, PIPELINE_JOB, command, failures or "dbt tests failed"
            ):
                out(line)
    return code


@dataclass(frozen=True)
class RunEvents:
    """What a run did, from its Dagster events: those of a run executed in this process, or
    those the instance logged for a run the daemon executed."""

    events: list[dg.DagsterEvent]
    success: bool

    @classmethod
    def of_result(cls, result: dg.ExecuteInProcessResult) -> RunEvents:
        return cls(list(result.all_events), result.success)

    @classmethod
    def of_run(cls, instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunEvents:
        events = [r.dagster_event for r in instance.all_logs(run.run_id) if r.dagster_event]
        return cls(events, run.status == dg.DagsterRunStatus.SUCCESS)

    def materializations(self) -> list[dg.DagsterEvent]:
        return [event for event in self.events if event.is_step_materialization]

    def check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [
            event.event_specific_data
            for event in self.events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]

    def step_failures(self) -> list:
        return [
            (event.step_key, event.step_failure_data.error)
            for event in self.events
            if event.is_step_failure and event.step_failure_data.error is not None
        ]


def report(run: RunEvents, out: Callable[[str], None], settings: Settings) -> int:
    """Print what the run did (failures, dbt models and tests) and return an exit code."""
    failures = run.step_failures()
    if any(error.cls_name in _INTERRUPTS for _, error in failures):
        loaded = sorted(
            f"{event.asset_key.path[-1].removeprefix('census_hitech_')} {event.partition}"
            for event in run.materializations()
            if event.asset_key in {raw_asset_key(flow) for flow in FLOWS}
        )
        out(f"interrupted; loaded so far: {', '.join(loaded) or 'nothing'}")
        return 130
    for step, error in failures:
        what = _STEP_NAMES.get(step, "release check")
        first, *more = error_message(error).splitlines()
        out(f"  FAILED {what}: {first}")
        for line in more:
            out(f"    {line}")
    if any(step == RAW_STEP for step, _ in failures):
        out("dbt build skipped: a raw partition failed to load. Fix the cause and run again.")
        return 1
    materialized = run.materializations()
    if not failures and not any(e.asset_key.path[0] != "raw" for e in materialized):
        for line in _warning_lines(run.check_evaluations()):  # the release check
            out(line)
        since = read_freshness(settings.published).last_changed
        when = f"{since:%Y-%m-%d %H:%M} UTC" if since else "the first run"
        out(f"Nothing new since {when}; published copy unchanged.")
        return 0
    dbt_assets = [e for e in materialized if e.asset_key.path[0] not in ("raw", "published")]
    published = [e for e in materialized if e.asset_key.path[0] == "published"]
    checks = run.check_evaluations()
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
    if failures or failed_checks or not run.success:
        out("dbt build failed: the marts keep their previous contents where a test failed.")
        return 1
    for event in published:
        metadata = event.materialization.metadata
        if "tables" in metadata:
            out(
                f"Published {metadata['tables'].value} mart tables (data through "
                f"{metadata['newest_month'].value}) to {metadata['path'].value}"
            )
        elif "outcome" in metadata:  # the release digest: where it went, what was posted
            for line in metadata["outcome"].value.splitlines():
                out(line[:1].upper() + line[1:])
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
    table = metadata.get(FAILING_ROWS_TABLE)
    stored = table.value if table is not None else "dbt_test__audit"
    return f"{rows} on {check.asset_key.to_user_string()} (stored in {stored})"


# Capturing a step's stdout starts `tail` and an orphan watcher per step: Ctrl-C to the
# terminal's process group made them print tracebacks, and `atp` prints the run's progress itself
# (its structured events still go to the instance, for the UI).
_NO_CAPTURE = {
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}


def _instance() -> dg.DagsterInstance:
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(home, overrides=_NO_CAPTURE))
    return dg.DagsterInstance.ephemeral()
