"""`atp run`/`refresh`/`rebuild` beside a Dagster daemon: the run joins the daemon's run queue,
with the UI's launches and the schedule's ticks, instead of executing in the `atp` process.

A run submitted through the workspace (`dagster job launch`, Dagster's public command) carries
its code location, so it shows on the UI's timeline and in its job's Runs tab, and run
monitoring watches its worker. The `atp` process follows it and prints what it did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from ingest.errors import AtpError
from ingest.redaction import redact
from orchestration.raw_assets import RAW_STEP

WORKSPACE = Path(__file__).resolve().parents[1] / "workspace.yaml"
# The daemon that takes runs off the queue beats every 30 s; two missed beats mean it is gone.
QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
HEARTBEAT_TOLERANCE_SECONDS = 90
_DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class SubmitError(AtpError):
    """`dagster job launch` could not queue the run."""


def daemon_serves(instance: dg.DagsterInstance) -> bool:
    """Whether a `dagster-daemon` takes this instance's queued runs (it beat recently)."""
    beat = instance.get_daemon_heartbeats().get(QUEUE_DAEMON)
    return beat is not None and time.time() - beat.timestamp < HEARTBEAT_TOLERANCE_SECONDS


def submit(job_name: str, run_config: dict, tags: dict[str, str]) -> str:
    """Queue a run of `job_name` through the workspace; returns its run id."""
    run_id = str(uuid.uuid4())
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            *("job", "launch", "-w", str(WORKSPACE), "-j", job_name, "--run-id", run_id),
            *("--config-json", json.dumps(run_config), "--tags", json.dumps(tags)),
        ],
        cwd=WORKSPACE.parent,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SubmitError(
            f"could not queue the run with `dagster job launch`: {redact(last)}; "
            "run it in this process with --no-queue"
        )
    return run_id


def follow(
    instance: dg.DagsterInstance, run_id: str, out: Callable[[str], None], poll: float = 1.0
) -> tuple[dg.DagsterRun, bool]:
    """Wait for the run to end, printing its raw step's log lines (one per partition) as they
    come. Ctrl-C cancels the run. Returns the run and whether this process canceled it."""
    cursor = None  # read the event log onward from here, not from its start each time
    said_start = False
    try:
        while True:
            run = instance.get_run_by_id(run_id)
            if run is None:
                raise SubmitError(f"run {run_id} is not in Dagster's run storage")
            if run.status == dg.DagsterRunStatus.STARTED and not said_start:
                out(f"Run {run_id[:8]} started")
                said_start = True
            more = True
            while more:
                page = instance.get_records_for_run(run_id, cursor=cursor)
                for entry in page.records:
                    record = entry.event_log_entry
                    if record.dagster_event is None and record.step_key == RAW_STEP:
                        out("  " + record.user_message)
                cursor, more = page.cursor, page.has_more
            if run.status in _DONE:
                return run, False
            time.sleep(poll)
    except KeyboardInterrupt:
        out(f"Ctrl-C: canceling run {run_id[:8]} ...")
        instance.run_coordinator.cancel_run(run_id)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            run = instance.get_run_by_id(run_id)
            if run.status in _DONE:
                break
            time.sleep(0.5)
        return run, True
