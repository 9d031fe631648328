"""Shared fixtures: a fake Census API on 127.0.0.1 and a throwaway warehouse per test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.client import CensusClient, RetryPolicy
from ingest.settings import Settings
from fake_census import FakeCensusApi, fixture_dataset

ROOT = Path(__file__).resolve().parents[1]
# A recognisable key: tests search logs, errors and files for it.
SENTINEL_KEY = "SENTINEL0KEY0f3a9c1e7b5d2468ace0SECRET00"
# Retries without real waiting and a short read timeout for the "timeout" fault.
FAST_POLICY = RetryPolicy(
    max_attempts=4, max_total_seconds=60, backoff_base=0.01, backoff_cap=0.05, read_timeout=0.5
)


def pytest_configure(config):
    # The Dagster definitions load dbt's manifest. `make test` prepares it; a bare pytest after
    # editing a model would otherwise run against a stale one.
    project = ROOT / "dbt_project"
    manifest = project / "target" / "manifest.json"
    sources = [
        p
        for p in project.rglob("*")
        if p.suffix in {".sql", ".yml", ".csv"} and "target" not in p.parts
    ]
    if not manifest.exists() or max(p.stat().st_mtime for p in sources) > manifest.stat().st_mtime:
        subprocess.run(
            [Path(sys.executable).parent / "dbt", "parse", "--quiet", "--profiles-dir", "."],
            cwd=project,
            check=True,
        )


@pytest.fixture
def fake_api():
    with FakeCensusApi(fixture_dataset(), timeout_sleep=1.5) as api:
        yield api


def point_settings_at(mp: pytest.MonkeyPatch, folder: Path, base_url: str) -> Settings:
    """Every setting at the fake API and at files in `folder` (nothing in the checkout)."""
    mp.setenv("CENSUS_API_BASE_URL", base_url)
    mp.setenv("CENSUS_API_KEY", SENTINEL_KEY)
    mp.setenv("ATP_WAREHOUSE", str(folder / "warehouse.duckdb"))
    mp.setenv("ATP_LANDING_DIR", str(folder / "landing"))
    mp.setenv("ATP_PUBLISHED", str(folder / "atp.duckdb"))
    mp.setenv("ATP_REPORT_DIR", str(folder / "report"))
    mp.setenv("ATP_START_YEAR", "2024")
    return Settings.from_env()


@pytest.fixture
def env(monkeypatch, tmp_path, fake_api) -> Settings:
    return point_settings_at(monkeypatch, tmp_path, fake_api.base_url)


@pytest.fixture
def client(fake_api) -> tuple[CensusClient, list[float]]:
    """A client for the fake API that records its back-off sleeps instead of sleeping."""
    sleeps: list[float] = []
    return CensusClient(
        fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=sleeps.append
    ), sleeps
