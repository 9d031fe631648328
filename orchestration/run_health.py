"""Runs whose process is gone (killed with SIGKILL, the OOM killer, a reboot) stay STARTED in
Dagster's run storage and keep their slot of the `duckdb` pool, which would block every later
run. This finds them by the process id Dagster records when a run starts executing, marks them
failed, stops the processes it left running (dbt) and frees its slots: at the start of every
`atp` run, and for daemon-launched runs through Dagster's run monitoring
(`AtpRunLauncher.check_run_worker_health`). The steps themselves run inside the run's own
process (the in-process executor), so they die with it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

STARTED = dg.DagsterRunStatus.STARTED


# Every process a run starts (dbt, say) inherits this variable from the process that executes
# the run: after a kill, the run's leftovers are found by it, whoever their parent is now.
RUN_ID_ENV = "ATP_RUN_ID"


def mark_processes_of(run_id: str) -> None:
    """Tag the processes this run starts from now on (called by each step that starts any)."""
    os.environ[RUN_ID_ENV] = run_id


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that executes the run (see `run_process`)."""
    found = run_process(instance, run_id)
    return found[0] if found else None


def run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The process that executes the run and when it said so (Unix time): the first engine event
    that names a pid, which that process itself records when it starts (the `atp` process for a
    command-line run, the run worker for a launched one)."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = record.dagster_event.engine_event_data if record.dagster_event else None
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value), record.timestamp
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


# A run that started executing but recorded no process this long after never got going.
NO_PROCESS_AFTER_SECONDS = 600


def dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, int | None]]:
    """Runs in progress whose executing process is gone, with that process id (None: the run
    started and never recorded one). Judged only from the process's own launch record: a run
    that is queued or still starting (its worker not up yet) is never taken for dead here; run
    monitoring in the daemon watches those."""
    found = []
    now = time.time()
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        run = record.dagster_run
        process = run_process(instance, run.run_id)
        if process is None:
            started = record.start_time
            if run.status == STARTED and started and now - started > NO_PROCESS_AFTER_SECONDS:
                found.append((run, None))
        elif not process_alive(*process):
            found.append((run, process[0]))
    return found


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every dead run failed, stop what it left running and free its pool slots; one line
    per run cleaned up (and per process stopped)."""
    cleaned = []
    for run, pid in dead_runs(instance):
        process = f"process {pid}" if pid else "no process"
        stopped = stop_run_processes(run.run_id)
        instance.report_run_failed(
            run, f"its {process} is gone: killed or crashed; marked failed by atp"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        cleaned.append(
            f"Cleaned up run {run.run_id[:8]} ({process} gone): marked failed, pool slots freed"
        )
        cleaned += [f"Stopped process {pid} left behind by that run" for pid in stopped]
    return cleaned


def live_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs in progress (after `reap_dead_runs`, those whose process is alive)."""
    return [
        record.dagster_run
        for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES))
    ]


def wait_for_live_runs(instance: dg.DagsterInstance, out, poll_seconds: float = 2.0) -> None:
    """Wait, sleeping (not spinning), until no other run is in progress; dead ones are reaped
    with what they left running."""
    said = False
    while True:
        for line in reap_dead_runs(instance):
            out(line)
        running = live_runs(instance)
        if not running:
            return
        if not said:
            out(f"Waiting for run {running[0].run_id[:8]} ({running[0].job_name}) to finish ...")
            said = True
        time.sleep(poll_seconds)


def stop_run_processes(run_id: str, grace_seconds: float = 10.0) -> list[int]:
    """Stop every process started for `run_id` (tagged by `mark_processes_of`) that outlived
    the run's own process: a dbt build still writing the warehouse, say. Returns their ids."""
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    stopped = []
    for proc in Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        if pid == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if marker in environ:
            _terminate(pid, grace_seconds)
            stopped.append(pid)
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
        process = run_process(self._instance, run.run_id)
        if process is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no process id recorded yet")
        pid = process[0]
        if process_alive(*process):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        # The worker is gone: what it started (dbt) must not go on writing for a failed run.
        stopped = stop_run_processes(run.run_id)
        left = f"; stopped what it left running (process {', '.join(map(str, stopped))})"
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"run worker process {pid} is gone" + (left if stopped else "")
        )


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
