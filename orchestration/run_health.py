"""Runs whose process is gone (killed with SIGKILL, the OOM killer, a reboot) stay STARTED in
Dagster's run storage and keep their slot of the `duckdb` pool, which would block every later
run. This finds them by the process id Dagster records when a run starts executing, marks them
failed and frees their slots: at the start of every `atp` run, and for daemon-launched runs
through Dagster's run monitoring (`AtpRunLauncher.check_run_worker_health`)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, RunsFilter


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that executes the run: the first engine event that names a pid (the `atp`
    process for a command-line run, the run worker for a launched one)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.engine_event_data if record.dagster_event else None
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value)
    return None


def process_alive(pid: int, started_by: float | None = None) -> bool:
    """Whether `pid` runs and, when `started_by` (a Unix time) is given, started no later than
    that: after a reboot the same number may belong to another process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    if started_by is None:
        return True
    started = _process_start_time(pid)
    return started is None or started <= started_by + 1


# A run that recorded no process this long after it was created never got going.
NO_PROCESS_AFTER_SECONDS = 600


def dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, int | None]]:
    """Runs in progress whose executing process is gone, with that process id (None: the run
    died before recording one)."""
    found = []
    now = time.time()
    for record in instance.get_run_records(RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        run = record.dagster_run
        pid = run_pid(instance, run.run_id)
        created = record.create_timestamp.timestamp()
        if pid is None:
            if now - created > NO_PROCESS_AFTER_SECONDS:
                found.append((run, None))
        elif not process_alive(pid, record.start_time or created):
            found.append((run, pid))
    return found


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every dead run failed and free its pool slots; one line per run cleaned up."""
    cleaned = []
    for run, pid in dead_runs(instance):
        process = f"process {pid}" if pid else "no process"
        instance.report_run_failed(
            run, f"its {process} is gone: killed or crashed; marked failed by atp"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        cleaned.append(
            f"Cleaned up run {run.run_id[:8]} ({process} gone): marked failed, pool slots freed"
        )
    return cleaned


def live_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs in progress (after `reap_dead_runs`, those whose process is alive)."""
    return [
        record.dagster_run
        for record in instance.get_run_records(RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES))
    ]


def wait_for_live_runs(
    instance: dg.DagsterInstance, warehouse: Path, out, poll_seconds: float = 2.0
) -> None:
    """Wait, sleeping (not spinning), until no other run is in progress; dead ones are reaped,
    and so is a dbt build a killed run left behind on `warehouse`."""
    said = False
    while True:
        for line in reap_dead_runs(instance):
            out(line)
        running = live_runs(instance)
        if not running:
            for line in stop_orphaned_dbt(warehouse):
                out(line)
            return
        if not said:
            out(f"Waiting for run {running[0].run_id[:8]} ({running[0].job_name}) to finish ...")
            said = True
        time.sleep(poll_seconds)


def stop_orphaned_dbt(warehouse: Path, grace_seconds: float = 10.0) -> list[str]:
    """A dbt build of `warehouse` still running when no run is in progress belongs to a run
    that was killed (dbt outlives its parent): it holds the file, so stop it."""
    marker = f'"atp_warehouse": "{warehouse}"'
    stopped = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(marker in arg for arg in argv) and any(Path(a).name == "dbt" for a in argv[:2]):
            pid = int(proc.name)
            _terminate(pid, grace_seconds)
            stopped.append(f"Stopped dbt (process {pid}) left behind by a killed run")
    return stopped


def _terminate(pid: int, grace_seconds: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline and process_alive(pid):
            time.sleep(0.2)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class AtpRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, plus the worker health check its run monitoring uses: a run
    whose worker process is gone is reported failed (and run monitoring frees its slots)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = run_pid(self._instance, run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no process id recorded yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone")


def _process_start_time(pid: int) -> float | None:
    """When `pid` started (Unix time), from /proc; None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    # Field 22 of /proc/<pid>/stat (the 20th after the command name): clock ticks since boot.
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
