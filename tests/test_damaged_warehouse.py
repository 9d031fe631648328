"""A damaged working warehouse (ATP_WAREHOUSE): `atp run` and `atp rebuild` say in one line what
to do (move it aside, `atp rebuild` from the landing zone) without asking the API anything; the
advice works."""

from __future__ import annotations

import shutil

import pytest

from ingest.partitions import load_years
from orchestration.cli import main
from tests.conftest import point_cli_at

DUCKDB_HEADERS = 3 * 4096


@pytest.fixture
def landed(env, fake_api, monkeypatch):
    """Every year of both flows landed and loaded; the API's request log then emptied."""
    for flow in ("imports", "exports"):
        assert all(r.status == "loaded" for _, r in load_years(env, flow, [2024, 2025, 2026]))
    fake_api.reset()
    point_cli_at(monkeypatch, env)  # 2024..2026
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral Dagster instance
    return env


def advice(path, reason: str) -> str:
    return (
        f"ATP_WAREHOUSE={path} is damaged ({reason}): move it aside (`mv {path} {path}.damaged`), "
        "then run `atp rebuild`, which rebuilds it from the landing zone without the network (the "
        "landing zone keeps every answer the API gave)."
    )


@pytest.mark.parametrize("command", ["rebuild", "run"])
def test_a_garbage_warehouse_is_one_line_before_any_request(landed, fake_api, capfd, command):
    landed.warehouse.write_bytes(b"not a database\n" * 1000)
    assert main([command]) == 2
    out, err = capfd.readouterr()
    assert out == ""
    assert err == f"atp {command}: {advice(landed.warehouse, 'not a DuckDB database')}\n"
    assert fake_api.data_requests == []


def test_a_warehouse_cut_short_is_one_line_before_any_request(landed, fake_api, capfd):
    with open(landed.warehouse, "r+b") as handle:
        handle.truncate(5000)
    assert main(["rebuild"]) == 2
    assert capfd.readouterr().err == f"atp rebuild: {advice(landed.warehouse, 'cut short')}\n"
    assert fake_api.data_requests == []


def test_damaged_blocks_fail_the_load_with_the_fix_and_the_fix_works(landed, fake_api, capfd):
    # The headers are intact, so the run starts; the first read of a block fails its checksum.
    path = landed.warehouse
    body = path.read_bytes()
    path.write_bytes(body[:DUCKDB_HEADERS] + b"\xa5" * (len(body) - DUCKDB_HEADERS))
    assert main(["rebuild"]) == 1
    lines = capfd.readouterr().out.splitlines()
    assert lines[1:] == [
        "  FAILED raw load: imports: 0 of 3 year(s) loaded; failed:",
        f"    imports 2024, 2025, 2026: {advice(path, 'a block fails its checksum')}",
        "    exports: 0 of 3 year(s) loaded; failed:",
        "    exports 2024, 2025, 2026: the same as imports 2024, 2025, 2026",
        "dbt build skipped: a raw partition failed to load. Fix the cause and run again.",
    ]
    assert fake_api.data_requests == []
    # What the line says to do: move it aside, rebuild from the landing zone.
    shutil.move(path, f"{path}.damaged")
    assert main(["rebuild"]) == 0
    out = capfd.readouterr().out
    assert "  imports 2024: 1,152 rows, 12 month(s) 2024-01..2024-12" in out.splitlines()
    assert out.rstrip().endswith("Done.")
    assert fake_api.data_requests == []
