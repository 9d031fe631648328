"""Ctrl-C while `atp run` waits for the Census API: the run ends within seconds (exit 130), sends
no further request and does not wait, even at exit, for the request in flight."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

from fake_census import FakeCensusApi, fixture_dataset
from ingest.landing import INCOMING_PREFIX
from tests.conftest import ROOT, at_api, point_cli_at

RUN_SCRIPT = "import sys; from orchestration.cli import main; sys.exit(main(['run']))"


def test_ctrl_c_during_a_slow_request_ends_the_run_at_once(env, monkeypatch):
    # The API holds every 2026 request for two minutes (the client's read timeout).
    with FakeCensusApi(fixture_dataset(), timeout_sleep=120) as api:
        point_cli_at(monkeypatch, replace(at_api(env, api), start_year=2025))
        api.set_fault_for(None, 2026, "timeout", times=10)
        environment = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        run = subprocess.Popen(
            [sys.executable, "-u", "-c", RUN_SCRIPT],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment | {"PYTHONPATH": str(ROOT)},
        )
        watchdog = threading.Timer(120, run.kill)  # never hang the suite
        watchdog.start()
        try:
            deadline = time.monotonic() + 90
            while not any("2026" in (r.param("time") or "") for r in api.data_requests):
                assert time.monotonic() < deadline and run.poll() is None, "no 2026 request"
                time.sleep(0.05)
            time.sleep(0.3)
            asked = len(api.data_requests)
            interrupted_at = time.monotonic()
            run.send_signal(signal.SIGINT)
            output = run.communicate(timeout=60)[0]
            took = time.monotonic() - interrupted_at
        finally:
            watchdog.cancel()
        time.sleep(0.5)
        assert len(api.data_requests) == asked  # nothing asked after Ctrl-C
    assert run.returncode == 130, output
    assert took < 5, f"the run took {took:.1f} s to stop"
    assert "interrupted; loaded so far:" in output and "Traceback" not in output
    assert list(env.landing_dir.glob("*/2026/*")) == []  # no answer stored after Ctrl-C


def test_ctrl_c_to_the_process_group_under_an_instance_is_one_clean_line(
    env, tmp_path, monkeypatch
):
    # What a terminal sends: SIGINT to every process of the group, with a Dagster instance in
    # DAGSTER_HOME (as `make run` has). No helper process of Dagster's prints a traceback, and
    # the year that loaded before the interrupt is named.
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    with FakeCensusApi(fixture_dataset(), timeout_sleep=120) as api:
        point_cli_at(monkeypatch, replace(at_api(env, api), start_year=2025))
        api.set_fault_for(None, 2026, "timeout", times=10)
        run = subprocess.Popen(
            [sys.executable, "-u", "-c", RUN_SCRIPT],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)},
            start_new_session=True,
        )
        watchdog = threading.Timer(120, run.kill)
        watchdog.start()
        try:
            deadline = time.monotonic() + 90
            while not any("2026" in (r.param("time") or "") for r in api.data_requests):
                assert time.monotonic() < deadline and run.poll() is None, "no 2026 request"
                time.sleep(0.05)
            time.sleep(0.3)
            os.killpg(run.pid, signal.SIGINT)
            output = run.communicate(timeout=60)[0]
        finally:
            watchdog.cancel()
    assert run.returncode == 130, output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert output.splitlines()[-1] == "interrupted; loaded so far: imports 2025", output


def test_ctrl_c_during_a_product_request_ends_the_run_at_once(env, monkeypatch):
    # Product detail asks several batches at once: none of its requests in flight may hold the
    # run (or its exit) either.
    with FakeCensusApi(fixture_dataset(), timeout_sleep=120) as api:
        point_cli_at(monkeypatch, replace(at_api(env, api), start_year=2025))
        api.set_fault_for(None, 2025, "timeout", times=10, source="hs")
        environment = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        run = subprocess.Popen(
            [sys.executable, "-u", "-c", RUN_SCRIPT],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment | {"PYTHONPATH": str(ROOT)},
        )
        watchdog = threading.Timer(120, run.kill)  # never hang the suite
        watchdog.start()
        try:
            deadline = time.monotonic() + 90
            while not api.product_requests:
                assert time.monotonic() < deadline and run.poll() is None, "no product request"
                time.sleep(0.05)
            time.sleep(0.3)
            interrupted_at = time.monotonic()
            run.send_signal(signal.SIGINT)
            output = run.communicate(timeout=60)[0]
            took = time.monotonic() - interrupted_at
        finally:
            watchdog.cancel()
    assert run.returncode == 130, output
    assert took < 5, f"the run took {took:.1f} s to stop"
    assert "interrupted; loaded so far:" in output and "Traceback" not in output
    # Nothing landed; the answers that had arrived stay in the partition's `.incoming-*` folder,
    # which the next fetch of that partition clears (one run at a time writes the landing zone).
    landed = [p.name for p in (env.landing_dir / "hs").glob("*/2025/*")]
    assert [name for name in landed if not name.startswith(INCOMING_PREFIX)] == []
