"""The API key never reaches logs, exception text, Dagster events or metadata, landing files,
manifests, DuckDB or dbt's files. A recognisable sentinel key is used throughout and searched for.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from ingest.client import CensusClient
from ingest.errors import CensusError
from orchestration.runner import run_pipeline
from tests.conftest import FAST_POLICY, ROOT, SENTINEL_KEY


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs():
    """Everything logged anywhere at DEBUG, urllib3's request lines included."""
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_the_key_is_never_logged_raised_or_stored(env, fake_api, debug_logs, capfd):
    assert SENTINEL_KEY not in env.base_url
    instance = dg.DagsterInstance.ephemeral()
    out: list[str] = []
    # A good run with a retry on the way (warning logs), through Dagster and dbt.
    fake_api.script("500")
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=out.append) == 0
    # Failing runs: Dagster records the errors as events.
    fake_api.script("redirect")
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=out.append) == 1
    fake_api.script("400", "400")
    assert run_pipeline(env, "api", years=[2026], instance=instance, out=out.append) == 1

    # Exception text and tracebacks of every failure kind, straight from the client.
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=lambda s: None)
    errors = []
    for faults in (["redirect"], ["html"], ["400"], ["503"] * 4, ["drop"] * 4, ["timeout"] * 4):
        fake_api.script(*faults)
        with pytest.raises(CensusError) as info:
            census.fetch_year("exports", 2024)
        errors.append("".join(traceback.format_exception(info.value)))
    fake_api.stop()  # connection refused: requests' message quotes the URL
    with pytest.raises(CensusError) as info:
        census.fetch_year("imports", 2024)
    errors.append("".join(traceback.format_exception(info.value)))

    # The key did travel to the API on every request ...
    assert all(r.param("key") == SENTINEL_KEY for r in fake_api.data_requests)
    # ... and urllib3 did log request lines, scrubbed.
    assert any("/imports/hitech?get=" in line and "key=***" in line for line in debug_logs)

    places = {
        "debug logs": "\n".join(debug_logs),
        "run output": "\n".join(out),
        "exceptions": "\n".join(errors),
        "stdout/stderr": "".join(capfd.readouterr()),
        "dagster events": "\n".join(
            serialize_value(event)
            for run in instance.get_runs()
            for event in instance.all_logs(run.run_id)
        ),
    }
    for path in [*env.landing_dir.rglob("*"), env.warehouse, *_dbt_artifacts(env.warehouse)]:
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("latin-1")
    assert any("census_hitech_imports" in text for text in places.values())
    leaks = [where for where, text in places.items() if SENTINEL_KEY in text]
    assert leaks == []
    assert "CENSUS_API_KEY" in places["run output"]  # the redirect failure names the variable


def _dbt_artifacts(warehouse: Path) -> list[Path]:
    run_target = warehouse.with_name(f"{warehouse.stem}.dbt-target")
    assert (run_target / "run_results.json").exists()
    project = ROOT / "dbt_project"
    return [
        *run_target.rglob("*"),
        *(project / "target").glob("*.json"),
        *(project / "logs").glob("*"),
    ]
