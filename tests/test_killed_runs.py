"""An operator's bad night: a run killed with SIGKILL (the OOM killer, a reboot, `kill -9`)
during a fetch, a load or dbt leaves a run STARTED in Dagster's storage, holding the `duckdb`
pool's only slot, and perhaps a dbt process still writing. The next run cleans that up, says so
in one line, and completes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import dagster as dg
import pytest
from dagster._core.events import EngineEventData

from fake_census import FakeCensusApi, fixture_dataset
from tests.conftest import ROOT, make_settings, point_cli_at

RUN = "import sys; from orchestration.cli import main; sys.exit(main(['run']))"
# Hangs inside the load's transaction, after the vintage went in and the year points at it.
HANG_IN_LOAD = """
import sys, time
from ingest import warehouse
real = warehouse._make_current
def hang(*args):
    real(*args)
    print("inside the transaction", file=sys.stderr, flush=True)  # stdout hides dbt's lines
    time.sleep(120)
warehouse._make_current = hang
from orchestration.cli import main
sys.exit(main(['run']))
"""


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """`atp run` over 2025-2026 against a fake API whose imports 2026 answer takes 20 s once,
    with a Dagster instance of its own (DAGSTER_HOME), as `make run` has."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    with FakeCensusApi(fixture_dataset(), timeout_sleep=20) as api:
        settings = make_settings(tmp_path, api.base_url, start_year=2025)
        point_cli_at(monkeypatch, settings)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        yield api, settings, home


def _start(script: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-u", "-c", script],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _kill_after(run: subprocess.Popen, text: str, count: int = 1, pause: float = 0.0) -> str:
    seen, lines = 0, []
    watchdog = threading.Timer(120, run.kill)
    watchdog.start()
    try:
        while seen < count:
            line = run.stdout.readline()
            assert line, "the run ended before it could be killed:\n" + "".join(lines)
            lines.append(line)
            seen += text in line
        time.sleep(pause)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        watchdog.cancel()
    return "".join(lines)


@pytest.mark.parametrize("stage", ["fetch", "load", "dbt"])
def test_the_run_after_a_killed_one_cleans_up_and_completes(setup, stage):
    api, settings, home = setup
    if stage == "fetch":
        api.set_fault_for("imports", 2026, "timeout")  # 20 s without an answer
        _kill_after(_start(RUN), "imports 2025:")
    elif stage == "load":
        _kill_after(_start(HANG_IN_LOAD), "inside the transaction")
    else:
        _kill_after(_start(RUN), " rows, ", count=4, pause=2.0)  # the loads are done: dbt runs
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (dead,) = instance.get_runs(limit=1)
        assert dead.status == dg.DagsterRunStatus.STARTED  # what the kill left behind
    api.reset()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", RUN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"Cleaned up run {dead.run_id[:8]} (process {dead_pid(home, dead.run_id)} gone): "
        "marked failed, pool slots freed"
    ), done.stdout
    assert lines[-1] == "Done."
    assert elapsed < 120
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE


def dead_pid(home, run_id) -> int:
    from orchestration.run_health import run_pid

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return run_pid(instance, run_id)


def _run(instance, status):
    run = dg.DagsterRun(job_name="atp_pipeline_job", run_id=str(uuid.uuid4()), status=status)
    return instance.add_run(run)


def _records_pid(instance, run, pid):
    instance.report_engine_event(
        f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
    )


def test_only_a_run_whose_own_process_is_gone_is_cleaned_up(tmp_path):
    from orchestration.run_health import dead_runs, reap_dead_runs

    instance = dg.DagsterInstance.ephemeral()
    # A UI launch, its worker up a little later than the run was created (queued): the worker
    # is alive, so the run is not dead, whatever the time between queue and start.
    starting = _run(instance, dg.DagsterRunStatus.STARTING)
    time.sleep(1.5)  # process start times are in clock ticks: leave no doubt about the order
    worker = subprocess.Popen(["sleep", "60"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        time.sleep(0.2)
        _records_pid(instance, starting, worker.pid)
        started = _run(instance, dg.DagsterRunStatus.STARTED)
        _records_pid(instance, started, worker.pid)
        dead = _run(instance, dg.DagsterRunStatus.STARTED)
        _records_pid(instance, dead, gone.pid)
        assert [(run.run_id, pid) for run, pid in dead_runs(instance)] == [(dead.run_id, gone.pid)]
        assert reap_dead_runs(instance) == [
            f"Cleaned up run {dead.run_id[:8]} (process {gone.pid} gone): marked failed, "
            "pool slots freed"
        ]
        status = {
            run.run_id: instance.get_run_by_id(run.run_id).status
            for run in [starting, started, dead]
        }
        assert status == {
            starting.run_id: dg.DagsterRunStatus.STARTING,
            started.run_id: dg.DagsterRunStatus.STARTED,
            dead.run_id: dg.DagsterRunStatus.FAILURE,
        }
        # A pid recorded before its process started is another process (the number was reused).
        reused = _run(instance, dg.DagsterRunStatus.STARTED)
        _records_pid(instance, reused, os.getpid())  # this process, older than the record: alive
        assert dead_runs(instance) == []
    finally:
        worker.kill()
        worker.wait()


def test_the_processes_a_dead_run_left_are_stopped(tmp_path):
    from orchestration.run_health import RUN_ID_ENV, stop_run_processes

    env = {**os.environ, RUN_ID_ENV: "run-that-died"}
    leftover = subprocess.Popen(["sleep", "60"], env=env)
    other = subprocess.Popen(["sleep", "60"], env={**os.environ, RUN_ID_ENV: "another-run"})
    try:
        time.sleep(0.2)
        assert stop_run_processes("run-that-died", grace_seconds=2) == [leftover.pid]
        assert leftover.wait(timeout=5) == -signal.SIGTERM
        assert other.poll() is None
    finally:
        for proc in (leftover, other):
            proc.kill()
            proc.wait()
