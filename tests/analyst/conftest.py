"""One warehouse built from the hand-computable fixture (2024, 2025, Jan-Sep 2026), published,
shared by the analyst tests (building it takes a few seconds; the tests only read it)."""

from __future__ import annotations

import dagster as dg
import pytest

from fake_census import FakeCensusApi, fixture_dataset
from ingest.settings import Settings
from orchestration.runner import run_pipeline
from tests.conftest import SENTINEL_KEY, make_settings, point_cli_at


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Settings:
    """Settings whose ATP_PUBLISHED holds the published marts (the environment stays set for the
    whole session, so `atp` commands run in-process read the same copy)."""
    tmp = tmp_path_factory.mktemp("analyst")
    with FakeCensusApi(fixture_dataset()) as api, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CENSUS_API_KEY", SENTINEL_KEY)
        settings = make_settings(tmp, api.base_url)
        point_cli_at(mp, settings)
        lines: list[str] = []
        code = run_pipeline(
            settings,
            "api",
            years=[2024, 2025, 2026],
            instance=dg.DagsterInstance.ephemeral(),
            out=lines.append,
        )
        assert code == 0, "\n".join(lines)
        yield settings
