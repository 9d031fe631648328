"""Shared fixtures: a fake Census API on 127.0.0.1 and a throwaway warehouse per test."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from fake_census import FakeCensusApi, fixture_dataset
from fake_census.code_lists import LISTS_PATH
from fake_census.server import API_ROOT
from ingest.client import CensusClient, RetryPolicy
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# A recognisable key: tests search logs, errors and files for it.
SENTINEL_KEY = "SENTINEL0KEY0f3a9c1e7b5d2468ace0SECRET00"
# Retries without real waiting and a short read timeout for the "timeout" fault.
FAST_POLICY = RetryPolicy(
    max_attempts=4, max_total_seconds=60, backoff_base=0.01, backoff_cap=0.05, read_timeout=0.5
)


# The day the suite takes as today (ATP_TODAY, read by `census_today`): the fixture's newest
# month, 2026-09, is the newest one due from 2026-11-09 through 2026-12-09. Without it the
# suite would start failing on a later day. Subprocesses inherit it.
TODAY = "2026-11-30"


def pytest_configure(config):
    os.environ["ATP_TODAY"] = TODAY
    # `make` exports the checkout's DAGSTER_HOME: tests never write runs into it, and parallel
    # workers never share one instance. A test that needs an instance makes its own.
    os.environ.pop("DAGSTER_HOME", None)
    # The Dagster definitions load dbt's manifest. `make test` prepares it; a bare pytest after
    # editing a model would otherwise run against a stale one.
    from orchestration.dbt_project import DBT_PROJECT_DIR, prepare_dbt

    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    sources = [
        p
        for p in DBT_PROJECT_DIR.rglob("*")
        if p.suffix in {".sql", ".yml", ".csv"} and "target" not in p.parts
    ]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        prepare_dbt(ROOT / "data" / "warehouse.duckdb")


# The slowest modules start first, the daemon's (about two minutes of schedule ticks) before
# all: the rest then fills both workers to the end instead of leaving one alone with them.
# (pyproject's --no-loadscope-reorder keeps this order; xdist would put large modules first.)
LONGEST_FIRST = (
    "tests/test_daemon.py",
    "tests/test_rebuild_and_failed_tests.py",
    "tests/test_killed_runs.py",
    "tests/test_operations.py",
    "tests/test_refresh_by_change.py",
    "tests/test_products_pipeline.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module and among the rest is kept


@pytest.fixture
def fake_api():
    with FakeCensusApi(fixture_dataset(), timeout_sleep=1.5) as api:
        yield api


def make_settings(folder: Path, base_url: str, **changes) -> Settings:
    """Every setting at the fake API (its ATP code lists too) and at files in `folder` (nothing
    in the checkout)."""
    settings = Settings(
        base_url=base_url,
        atp_codes_base_url=lists_url(base_url),
        api_key=SENTINEL_KEY,
        warehouse=folder / "warehouse.duckdb",
        landing_dir=folder / "landing",
        published=folder / "atp.duckdb",
        report_dir=folder / "report",
        start_year=2024,
        release_lag_days=40,
        refresh_cron="0 6 * * *",
        min_free_mb=200,
    )
    return replace(settings, **changes)


def lists_url(base_url: str) -> str:
    """Where the fake API at `base_url` serves the ATP code lists."""
    return base_url.removesuffix(API_ROOT) + LISTS_PATH


def at_api(settings: Settings, api: FakeCensusApi) -> Settings:
    """`settings` pointed at another fake API, for its data and its code lists."""
    return replace(settings, base_url=api.base_url, atp_codes_base_url=api.atp_codes_base_url)


def point_cli_at(mp: pytest.MonkeyPatch, settings: Settings) -> None:
    """The environment the `atp` command line reads, for these settings."""
    mp.setenv("CENSUS_API_BASE_URL", settings.base_url)
    mp.setenv("CENSUS_ATP_CODES_BASE_URL", settings.atp_codes_base_url)
    mp.setenv("ATP_WAREHOUSE", str(settings.warehouse))
    mp.setenv("ATP_LANDING_DIR", str(settings.landing_dir))
    mp.setenv("ATP_PUBLISHED", str(settings.published))
    mp.setenv("ATP_REPORT_DIR", str(settings.report_dir))
    mp.setenv("ATP_START_YEAR", str(settings.start_year))


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    """The key is a secret: Dagster reads it from the environment (an EnvVar), never config."""
    monkeypatch.setenv("CENSUS_API_KEY", SENTINEL_KEY)


@pytest.fixture
def env(tmp_path, fake_api) -> Settings:
    return make_settings(tmp_path, fake_api.base_url)


@pytest.fixture
def client(fake_api) -> tuple[CensusClient, list[float]]:
    """A client for the fake API that records its back-off sleeps instead of sleeping."""
    sleeps: list[float] = []
    return CensusClient(
        fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=sleeps.append
    ), sleeps
