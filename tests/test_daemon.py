"""Unattended for real: `dagster-daemon` and the webserver, as `make serve` runs them, with the
nightly schedule ticking every minute against the fake API and a local webhook receiver.

One scenario, in order: a tick refreshes, publishes and posts a digest; a UI launch whose worker
is killed with SIGKILL mid-fetch is failed, leaves no process of its own and posts one alert; a
UI launch and `atp run` 0.5 s apart both complete, neither reaped; the next tick finds nothing
new, succeeds and posts nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.run_health import RUN_ID_ENV, run_pid
from tests.conftest import ROOT, make_settings, point_cli_at

BIN = ROOT / ".venv" / "bin"
RANGE = {"dagster/asset_partition_range_start": "2025", "dagster/asset_partition_range_end": "2026"}
DONE = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class Receiver(BaseHTTPRequestHandler):
    """An incoming webhook: records each JSON body's text."""

    texts: list[str] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.texts.append(json.loads(body)["text"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def services(tmp_path, monkeypatch):
    """Fake API, webhook receiver, daemon and webserver over one DAGSTER_HOME."""
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.texts = []
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Production settings, with run monitoring polling faster than in production.
    config = (ROOT / "orchestration" / "dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(
        config.replace("poll_interval_seconds: 15", "poll_interval_seconds: 5")
    )
    with FakeCensusApi(fixture_dataset(), timeout_sleep=60) as api:
        settings = make_settings(tmp_path, api.base_url, start_year=2025)
        point_cli_at(monkeypatch, settings)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        monkeypatch.setenv("ATP_REFRESH_CRON", "* * * * *")
        monkeypatch.setenv("ATP_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{hook.server_port}/T0KEN")
        port = _free_port()
        # The storage is made once, first: the daemon and the webserver starting together on an
        # empty DAGSTER_HOME would both create it (alembic: "more than one head").
        dg.DagsterInstance.from_config(str(home)).dispose()
        log = open(tmp_path / "services.log", "w")  # noqa: SIM115 - closed below
        started = [
            subprocess.Popen(
                argv, cwd=ROOT, stdout=log, stderr=log, start_new_session=True, env=os.environ
            )
            for argv in (
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-p", str(port)],
            )
        ]
        try:
            _wait_for(lambda: _answers(port), 120, "the webserver")
            with dg.DagsterInstance.from_config(str(home)) as instance:
                client = DagsterGraphQLClient("127.0.0.1", port_number=port)
                yield instance, client, port, api, settings
        finally:
            for proc in started:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in started:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            log.close()
            hook.shutdown()


def test_the_daemon_path_end_to_end(services, tmp_path):
    instance, client, port, api, settings = services

    # 1. A tick of the schedule refreshes, builds, publishes and posts the digest.
    tick = _wait_for(lambda: _runs(instance, "schedule"), 150, "a scheduled run")[0]
    tick = _finished(instance, tick.run_id)
    assert tick.status == dg.DagsterRunStatus.SUCCESS
    assert tick.tags["atp/outcome"] == "changed"
    assert settings.published.exists()
    _wait_for(lambda: [t for t in Receiver.texts if t.startswith("ATP digest")], 30, "the digest")

    # The operator pauses the schedule, so that no tick takes the hanging answer below.
    _dagster("schedule", "stop", "nightly_refresh")
    _wait_for(lambda: not _in_progress(instance), 300, "the runs in progress")

    # 2. A UI launch whose worker is killed mid-fetch: failed, nothing of it left, one alert.
    api.set_fault_for("imports", 2026, "timeout")  # 60 s without an answer
    killed = client.submit_job_execution("atp_pipeline_job", tags=RANGE)
    fetching = len(api.data_requests) + 2  # imports 2025, then 2026, which hangs
    _wait_for(lambda: len(api.data_requests) >= fetching, 120, "the hanging fetch")
    worker = run_pid(instance, killed)
    os.kill(worker, signal.SIGKILL)
    failed = _finished(instance, killed, limit=60)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    assert _processes_of(killed) == []
    events = [
        r.dagster_event.event_type_value for r in instance.all_logs(killed) if r.dagster_event
    ]
    assert "STEP_SUCCESS" not in events
    alert = _wait_for(lambda: [t for t in Receiver.texts if killed[:8] in t], 60, "the alert")
    assert len(alert) == 1 and "a launch from the UI" in alert[0]
    assert "T0KEN" not in "".join(Receiver.texts)

    # 3. A UI launch and `atp run` 0.5 s later: `atp run` joins the daemon's queue behind the
    # launch (one queue), shows on the UI's timeline, and both complete; neither is reaped.
    api.reset()
    launched = client.submit_job_execution("atp_pipeline_job", tags=RANGE)
    time.sleep(0.5)
    cli = subprocess.run(
        [str(BIN / "atp"), "run"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "Queued as run" in cli.stdout and "Cleaned up" not in cli.stdout
    assert "imports 2026:" in cli.stdout  # the run's progress, followed from its event log
    assert cli.stdout.splitlines()[-1] == "Done."
    first = _finished(instance, launched)
    assert first.status == dg.DagsterRunStatus.SUCCESS
    queued = _runs(instance, "run")[0]
    assert queued.status == dg.DagsterRunStatus.SUCCESS
    assert instance.get_run_record_by_id(queued.run_id).start_time >= _end(instance, first)
    assert _timeline_origin(port, queued.run_id) == "orchestration.definitions"

    # ... and refuses, before any request, a warehouse other than the daemon's own.
    asked = tmp_path / "elsewhere.duckdb"
    requests_before = len(api.data_requests)
    other = subprocess.run(
        [str(BIN / "atp"), "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "ATP_WAREHOUSE": str(asked)},
    )
    assert other.returncode == 1, other.stdout + other.stderr
    assert f"queued for the warehouse {asked}" in other.stdout
    assert "--no-queue" in other.stdout
    assert len(api.data_requests) == requests_before and not asked.exists()
    refused = _runs(instance, "run")[0].run_id
    _wait_for(lambda: [t for t in Receiver.texts if refused[:8] in t], 60, "its alert")

    # 4. The next tick finds nothing new: a success that builds and posts nothing.
    posts = len(Receiver.texts)
    seen = {run.run_id for run in _runs(instance, "schedule")}
    _dagster("schedule", "start", "nightly_refresh")
    quiet = _wait_for(
        lambda: [r for r in _runs(instance, "schedule") if r.run_id not in seen], 150, "a tick"
    )[0]
    quiet = _finished(instance, quiet.run_id)
    assert quiet.status == dg.DagsterRunStatus.SUCCESS
    assert quiet.tags["atp/outcome"] == "unchanged"
    steps = {
        r.dagster_event.step_key
        for r in instance.all_logs(quiet.run_id)
        if r.dagster_event and r.dagster_event.event_type_value == "STEP_SUCCESS"
    }
    assert "published__atp_warehouse" not in steps
    assert len(Receiver.texts) == posts
    # No run was reaped along the way: the only failure is the killed one.
    failures = [r.run_id for r in instance.get_runs() if r.status == dg.DagsterRunStatus.FAILURE]
    assert set(failures) == {killed, refused}


def _dagster(*args: str) -> None:
    done = subprocess.run(
        [str(BIN / "dagster"), *args, "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _end(instance, run: dg.DagsterRun) -> float:
    return instance.get_run_record_by_id(run.run_id).end_time


def _timeline_origin(port: int, run_id: str) -> str | None:
    """The code location the UI's timeline files the run under (it shows runs that have one)."""
    query = (
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { repositoryOrigin "
        "{ repositoryLocationName } } } }"
    )
    answer = requests.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": {"id": run_id}},
        timeout=30,
    )
    run = answer.json()["data"]["runOrError"]
    return (run["repositoryOrigin"] or {}).get("repositoryLocationName")


def _in_progress(instance) -> list[dg.DagsterRun]:
    return [r for r in instance.get_runs() if r.status not in DONE]


def _runs(instance, command: str) -> list[dg.DagsterRun]:
    return [r for r in instance.get_runs() if r.tags.get("atp/command") == command]


def _finished(instance, run_id: str, limit: float = 300) -> dg.DagsterRun:
    return _wait_for(
        lambda: (run := instance.get_run_by_id(run_id)).status in DONE and run, limit, run_id
    )


def _processes_of(run_id: str) -> list[int]:
    marker = f"{RUN_ID_ENV}={run_id}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _wait_for(condition, limit: float, what: str):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok
    except requests.RequestException:
        return False


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
