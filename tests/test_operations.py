"""Keeping the warehouse current and safe: the refresh schedule, release awareness, revisions,
publishing for readers, concurrency, kills and disk space."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from fake_census import revised_fixture_dataset
from ingest import diskspace
from ingest.errors import WarehouseError
from ingest.landing import landed_files
from ingest.locking import writer_lock
from ingest.partitions import fetch_and_load
from ingest.releases import newest_month_due, release_status
from ingest.settings import Settings
from ingest.warehouse import connect
from orchestration.definitions import build_definitions
from orchestration.runner import run_pipeline
from orchestration.schedules import refresh_years
from tests.conftest import ROOT, make_settings, point_cli_at

B = 1_000_000_000
NEW_YORK = ZoneInfo("America/New_York")


def quiet(_line: str) -> None:
    pass


def query(path, sql, *params):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


# -- the nightly refresh: which years ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "years"),
    [
        (date(2027, 1, 15), [2026]),  # January: last year's December due, no 2027 month yet
        (date(2027, 3, 12), [2026, 2027]),  # January 2027 is due from March 12 (+40 days)
        (date(2026, 5, 31), [2025, 2026]),  # the annual revision window starts in June
        (date(2026, 6, 1), [2022, 2023, 2024, 2025, 2026]),  # annual revision with April data
        (date(2026, 6, 10), [2022, 2023, 2024, 2025, 2026]),
        (date(2026, 7, 31), [2022, 2023, 2024, 2025, 2026]),
        (date(2026, 8, 1), [2025, 2026]),
        (date(2026, 11, 27), [2025, 2026]),
    ],
)
def test_refresh_covers_every_year_that_can_still_change(day, years):
    assert refresh_years(day, start_year=2013, lag_days=40) == years


def test_refresh_never_goes_before_the_first_year():
    assert refresh_years(date(2026, 6, 10), start_year=2025, lag_days=40) == [2025, 2026]


def test_a_full_run_asks_for_the_years_due_only():
    settings = make_settings(ROOT, "http://127.0.0.1:9", start_year=2013)
    assert settings.years(date(2027, 1, 15)) == list(range(2013, 2027))  # no 2027 month due
    assert settings.years(date(2027, 3, 12)) == list(range(2013, 2028))


@pytest.mark.parametrize(
    ("when", "start", "end"),
    [
        (datetime(2027, 1, 15, 6, 0, tzinfo=NEW_YORK), "2026", "2026"),
        # 04:30 UTC on March 12 is still March 11 in New York: January 2027 is not due yet.
        (datetime(2027, 3, 12, 4, 30, tzinfo=UTC), "2026", "2026"),
        (datetime(2026, 6, 10, 6, 0, tzinfo=NEW_YORK), "2022", "2026"),
        (datetime(2026, 11, 27, 6, 0, tzinfo=NEW_YORK), "2025", "2026"),
    ],
)
def test_the_schedule_requests_one_run_over_those_years(when, start, end, tmp_path):
    settings = make_settings(tmp_path, "http://127.0.0.1:9", start_year=2013)
    defs = build_definitions(settings)
    schedule = defs.get_schedule_def("nightly_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 6 * * *",
        "America/New_York",
    )
    context = dg.build_schedule_context(
        scheduled_execution_time=when,
        resources={"settings": settings},
    )
    data = schedule.evaluate_tick(context)
    (request,) = data.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == start
    assert request.tags["dagster/asset_partition_range_end"] == end
    assert request.run_key == f"refresh-{when.astimezone(NEW_YORK):%Y-%m-%dT%H:%M}"
    assert request.tags["atp/command"] == "schedule"
    assert request.run_config == {"ops": {"atp_dbt_models": {"config": {"only_if_changed": True}}}}


def test_the_refresh_time_is_configurable():
    settings = Settings.from_env({"ATP_REFRESH_CRON": " 30 7  * * 1-5 "})
    schedule = build_definitions(settings).get_schedule_def("nightly_refresh")
    assert schedule.cron_schedule == "30 7 * * 1-5"


# -- release awareness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (date(2026, 11, 27), "2026-09"),  # September ended 40 days before November 9
        (date(2026, 11, 8), "2026-08"),
        (date(2027, 1, 15), "2026-11"),
        (date(2026, 3, 1), "2025-12"),
    ],
)
def test_the_newest_month_due_is_month_end_plus_the_lag(today, due):
    assert newest_month_due(today, lag_days=40) == due


def test_a_warehouse_behind_the_calendar_is_flagged_with_both_months(env, client):
    census, _ = client
    for flow in ("imports", "exports"):
        fetch_and_load(env, flow, 2026, census)  # January-September 2026
    with connect(env.warehouse, read_only=True) as con:
        current = release_status(con, date(2026, 11, 27), 40)
        late = release_status(con, date(2027, 1, 15), 40)
    assert not current.behind and current.newest_held == "2026-09"
    assert late.behind
    assert "holds 2026-09" in late.describe() and "published 2026-11" in late.describe()


# -- revisions, publishing, release warning (one pipeline, two vintages) -----------------------


def test_a_revision_shows_in_the_marts_and_in_the_revisions_mart(env, fake_api):
    env = replace(env, release_lag_days=0)  # every finished month is due: must warn
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=quiet) == 0
    # The June revision: China's 2025 imports revised up, Canada dropped from 2025 imports.
    fake_api.dataset = revised_fixture_dataset()
    out: list[str] = []
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=out.append) == 0
    assert any(
        line.startswith("  WARNING census_release_is_current: behind: the warehouse holds 2025-12")
        for line in out
    ), out
    assert out[-1] == "Done." and any(line.startswith("Published ") for line in out)

    # The marts (published copy included) show the latest vintage.
    for path in (env.warehouse, env.published):
        china = query(
            path,
            "SELECT atp_imports_usd FROM marts.fct_atp_partner_year WHERE partner_code = '5700' AND year = 2025",
        )
        assert china == [(111_600_000_000,)]  # 9.3 bn a month
    canada = query(
        env.published,
        "SELECT atp_imports_usd, atp_exports_usd FROM marts.fct_atp_partner_year WHERE partner_code = '1220' AND year = 2025",
    )
    assert canada == [(0, 60 * B)]

    # ... and the revisions mart shows both vintages.
    revisions = {
        (code, group, status): (first, latest, revision, pct, vintages)
        for code, group, status, first, latest, revision, pct, vintages in query(
            env.published,
            "SELECT partner_code, hitech_code, revision_status, first_value_usd, latest_value_usd, "
            "revision_usd, revision_pct, vintages FROM marts.fct_atp_revisions "
            "WHERE flow = 'imports' AND month_start = DATE '2025-03-01' AND hitech_code = '04'",
        )
    }
    assert revisions[("5700", "04", "revised")] == (
        4_500_000_000,
        4_650_000_000,
        150_000_000,
        pytest.approx(100 / 30),
        2,
    )
    assert revisions[("1220", "04", "dropped")] == (
        120_000_000,
        None,
        -120_000_000,
        pytest.approx(-100.0),
        2,
    )
    assert revisions[("2010", "04", "unchanged")] == (5 * B, 5 * B, 0, pytest.approx(0.0), 2)
    statuses_2024 = query(
        env.published,
        "SELECT DISTINCT revision_status, vintages FROM marts.fct_atp_revisions WHERE year = 2024",
    )
    assert statuses_2024 == [("unchanged", 1)]  # 2024 came back identical: no new vintage
    assert len(landed_files(env.landing_dir, "imports", 2024)) == 2  # two fetches ...
    assert (
        len(list((env.landing_dir / "imports" / "2024").glob("*_2024_*[0-9]Z.json"))) == 1
    )  # one file


def test_a_failed_run_publishes_nothing(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=quiet) == 0
    before = env.published.read_bytes()
    fake_api.set_fault_for("exports", 2025, "bad_value")
    out: list[str] = []
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=out.append) == 1
    assert not any(line.startswith("Published") for line in out)
    assert env.published.read_bytes() == before
    assert not (env.published.stat().st_mode & 0o222)  # the published copy is read-only


# -- concurrency ------------------------------------------------------------------------------

RUN_SCRIPT = "import sys; from orchestration.cli import main; sys.exit(main(['run']))"


def _run_env() -> dict[str, str]:
    # Without DAGSTER_HOME each run has its own instance, so the lock file alone orders two runs
    # (with a shared instance, Dagster's `duckdb` pool queues them first).
    return {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"PYTHONPATH": str(ROOT)}


def _read_until(run: subprocess.Popen, text: str, max_lines: int = 50) -> None:
    for _ in range(max_lines):
        if text in run.stdout.readline():
            return
    raise AssertionError(f"{text!r} not seen in the run's output")


def test_two_runs_at_once_wait_for_each_other(env, monkeypatch):
    point_cli_at(monkeypatch, replace(env, start_year=2025))  # `atp run`: 2025..2026
    # Hold the writer lock while both runs start, so that both reach it while it is taken
    # (without this, one run could finish before the other starts and nothing would be tested).
    with writer_lock(env.warehouse):
        runs = [
            subprocess.Popen(
                [sys.executable, "-u", "-c", RUN_SCRIPT],  # unbuffered: lines arrive as printed
                cwd=ROOT,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=_run_env(),
            )
            for _ in range(2)
        ]
        # Never hang the suite: if a line does not come, the runs are killed and the test fails.
        watchdog = threading.Timer(120, lambda: [run.kill() for run in runs])
        watchdog.start()
        try:
            for run in runs:  # each starts, then waits for the lock instead of failing on DuckDB's
                _read_until(run, "Raw partitions 2025..2026")
                _read_until(run, "waiting for another run writing")
        finally:
            watchdog.cancel()
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n=====\n".join(outputs)
    assert all(text.rstrip().endswith("Done.") for text in outputs), outputs
    assert query(env.published, "SELECT count(*) FROM marts.fct_us_atp_year") == [(2,)]


READER_SCRIPT = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    sql = "SELECT atp_imports_usd FROM marts.fct_atp_partner_year WHERE partner_code = '5700' AND year = 2025"
    print(con.execute(sql).fetchall()[0][0], flush=True)
    sys.stdin.readline()  # hold the session open while the test refreshes and publishes
    print(con.execute(sql).fetchall()[0][0], flush=True)
    """
)


def test_a_reader_session_neither_blocks_a_refresh_nor_sees_its_file_change(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=quiet) == 0
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(env.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == str(108 * B)
        fake_api.dataset = revised_fixture_dataset()
        assert run_pipeline(env, "api", years=[2025], instance=instance, out=quiet) == 0
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == str(108 * B)  # the session's copy is unchanged
    finally:
        reader.kill()
        reader.wait()
    # A new session sees the new copy.
    assert query(
        env.published,
        "SELECT atp_imports_usd FROM marts.fct_atp_partner_year WHERE partner_code = '5700' AND year = 2025",
    ) == [(111_600_000_000,)]


# -- a killed load -----------------------------------------------------------------------------

LOADER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from ingest import warehouse
    from ingest.census_format import table_from_json
    from ingest.datasets import HITECH
    from fake_census import fixture_dataset, revised_fixture_dataset
    from fake_census.server import build_table, encode_table

    path, stage = Path(sys.argv[1]), sys.argv[2]
    dataset = fixture_dataset() if stage == "original" else revised_fixture_dataset()
    query = [("get", ",".join(HITECH.requested_variables("imports"))), ("time", "from 2025-01 to 2025-12")]
    rows = build_table(dataset, "imports", query)[0]
    table = table_from_json(rows, "imports", 2025)
    body = path.with_name(f"{stage}.json")
    body.write_bytes(encode_table(rows))
    if stage == "killed":
        real_replace = warehouse._make_current
        def replace_then_hang(con, *args):
            real_replace(con, *args)  # inside the transaction, after the vintage went in
            print("inside the transaction", flush=True)
            time.sleep(60)
        warehouse._make_current = replace_then_hang
    with warehouse.writer(path) as con:
        warehouse.load_partition(
            con, table, [body], fetched_at=datetime.now(UTC), landing_file=stage
        )
    print("committed", flush=True)
    """
)


def _loader(path, stage):
    return subprocess.Popen(
        [sys.executable, "-c", LOADER_SCRIPT, str(path), stage],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_loader_killed_inside_its_transaction_leaves_the_old_rows(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    rows = "SELECT count(*), sum(GEN_VAL_MO::BIGINT) FROM raw.census_hitech_imports"
    assert _loader(path, "original").communicate(timeout=60)[0].strip() == "committed"
    before = query(path, rows)
    killed = _loader(path, "killed")
    assert killed.stdout.readline().strip() == "inside the transaction"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert query(path, rows) == before
    assert query(path, "SELECT DISTINCT _landing_file FROM raw.census_hitech_imports_history") == [
        ("original",)
    ]
    assert _loader(path, "revised").communicate(timeout=60)[0].strip() == "committed"
    assert query(path, rows) != before


# -- disk space -------------------------------------------------------------------------------


def test_a_nearly_full_disk_is_refused_before_anything_is_written(env, client, monkeypatch):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)
    before = query(env.warehouse, "SELECT count(*) FROM raw.census_hitech_imports")
    usage = shutil.disk_usage(env.warehouse.parent)
    monkeypatch.setattr(
        diskspace.shutil, "disk_usage", lambda path: usage._replace(free=150 * diskspace.MB)
    )
    with pytest.raises(
        WarehouseError, match=r"not enough disk space to store imports 2025: 150 MB free"
    ):
        fetch_and_load(env, "imports", 2025, census)
    assert query(env.warehouse, "SELECT count(*) FROM raw.census_hitech_imports") == before
    assert len(landed_files(env.landing_dir, "imports", 2025)) == 1


def test_ctrl_c_during_dbt_ends_in_one_line_and_the_next_run_completes(env, monkeypatch):
    point_cli_at(monkeypatch, replace(env, start_year=2025))  # `atp run`: 2025..2026
    run = subprocess.Popen(
        [sys.executable, "-u", "-c", RUN_SCRIPT],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_run_env(),
    )
    watchdog = threading.Timer(120, run.kill)
    watchdog.start()
    try:
        for _ in range(4):  # the four partitions load, then dbt starts
            _read_until(run, " rows, ")
        time.sleep(1.5)
        run.send_signal(signal.SIGINT)
        output = run.communicate(timeout=60)[0]
    finally:
        watchdog.cancel()
    assert run.returncode == 130, output
    assert "Traceback" not in output, output
    assert (
        "interrupted; loaded so far: exports 2025, exports 2026, imports 2025, imports 2026"
        in output
    ), output
    again = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=_run_env(),
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.rstrip().endswith("Done.")
