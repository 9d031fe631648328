"""When `atp` hands a run to the daemon's queue, and what the queued run refuses. The queued path
itself (submission, following, the UI's timeline) runs for real in tests/test_daemon.py."""

from __future__ import annotations

import time

import dagster as dg
import pytest
from dagster._daemon.types import DaemonHeartbeat

from ingest.errors import ConfigError
from orchestration.cli import build_parser
from orchestration.raw_assets import RAW_STEP, _check_warehouse
from orchestration.run_queue import (
    HEARTBEAT_TOLERANCE_SECONDS,
    QUEUE_DAEMON,
    daemon_serves,
    follow,
)


@pytest.fixture
def instance(tmp_path):
    with dg.DagsterInstance.from_config(str(tmp_path)) as found:
        yield found


def _beat(instance, daemon_type: str, age: float) -> None:
    instance.add_daemon_heartbeat(
        DaemonHeartbeat(time.time() - age, daemon_type, "test-daemon", errors=[])
    )


def test_no_daemon_means_the_run_executes_in_the_atp_process(instance):
    assert not daemon_serves(instance)


def test_a_daemon_that_beat_lately_takes_the_run(instance):
    _beat(instance, QUEUE_DAEMON, age=5)
    assert daemon_serves(instance)


def test_a_daemon_gone_quiet_or_another_daemon_does_not(instance):
    _beat(instance, QUEUE_DAEMON, age=HEARTBEAT_TOLERANCE_SECONDS + 1)
    _beat(instance, "SCHEDULER", age=1)  # a scheduler alone would never dequeue the run
    assert not daemon_serves(instance)


@pytest.mark.parametrize("command", ["run", "refresh", "rebuild"])
def test_every_pipeline_command_can_stay_in_its_own_process(command):
    assert build_parser().parse_args([command]).queue is True
    assert build_parser().parse_args([command, "--no-queue"]).queue is False


def test_a_queued_run_refuses_a_warehouse_other_than_its_own(tmp_path):
    own = tmp_path / "atp.duckdb"
    _check_warehouse(None, own)  # a launch from the UI asks for none
    _check_warehouse(str(tmp_path / "." / "atp.duckdb"), own)  # the same file, spelled otherwise
    with pytest.raises(
        ConfigError, match=r"queued for the warehouse /elsewhere.duckdb.*--no-queue"
    ):
        _check_warehouse("/elsewhere.duckdb", own)


def test_following_a_run_prints_each_raw_step_line_once_in_order(instance):
    @dg.op(name=RAW_STEP)
    def raw_census(context):
        for i in range(120):
            context.log.info(f"line {i}")

    @dg.op
    def other(context):
        context.log.info("not the raw step")

    @dg.job
    def job():
        raw_census()
        other()

    run_id = job.execute_in_process(instance=instance).run_id
    printed: list[str] = []
    run, canceled = follow(instance, run_id, printed.append, poll=0.01)
    assert (run.status, canceled) == (dg.DagsterRunStatus.SUCCESS, False)
    assert printed == [f"  line {i}" for i in range(120)]
