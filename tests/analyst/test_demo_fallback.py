"""After `make demo` alone, the commands that show data use the demo's and say so; the commands
that build never do, and a warehouse of one's own always wins."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from fake_census.demo import next_steps
from ingest.demo_data import demo_fallback
from orchestration.cli import main

_PATHS = ("ATP_WAREHOUSE", "ATP_PUBLISHED", "ATP_LANDING_DIR", "ATP_REPORT_DIR", "DAGSTER_HOME")


@pytest.fixture
def demo_only(published, tmp_path, monkeypatch):
    """A checkout whose only data is the demo's (the fixture's published copy in data/demo)."""
    demo = tmp_path / "data" / "demo"
    demo.mkdir(parents=True)
    shutil.copy(published.published, demo / "atp.duckdb")
    monkeypatch.chdir(tmp_path)
    for name in _PATHS:
        monkeypatch.delenv(name, raising=False)
    return demo


def test_analyst_commands_show_the_demo_and_say_so(demo_only, capsys):
    assert main(["report", "--year", "2025", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == (
        f"atp report: showing the demo's data ({demo_only / 'atp.duckdb'}: demo figures, not "
        "Census's); `make run` builds your own from the Census API.\n"
    )
    assert out.splitlines()[1].startswith("2025,12,1,2010,Mexico,")  # rank 1 in 2025


def test_no_fallback_for_a_build_or_beside_ones_own_data(demo_only, monkeypatch):
    assert demo_fallback()["ATP_PUBLISHED"] == str(demo_only / "atp.duckdb")
    assert demo_fallback({"ATP_PUBLISHED": "/elsewhere/atp.duckdb"}) == {}
    (demo_only.parent / "warehouse.duckdb").write_bytes(b"")  # `make run` has begun
    assert demo_fallback() == {}


def test_the_makefile_gets_shell_exports(demo_only):
    env = {k: v for k, v in os.environ.items() if k not in _PATHS}
    done = subprocess.run(
        [sys.executable, "-m", "ingest.demo_data"], capture_output=True, text=True, env=env
    )
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exports["DAGSTER_HOME"] == str(demo_only / ".dagster")
    assert exports["ATP_WAREHOUSE"] == str(demo_only / "warehouse.duckdb")
    assert exports["ATP_START_YEAR"] == "2013" and exports["ATP_DEMO"] == "1"
    assert done.stderr.startswith("note: showing the demo's data")


def test_the_demo_says_the_commands_need_no_setting(demo_only):
    text = next_steps(demo_only, 2024)
    assert "ATP_PUBLISHED=" not in text and " report --year 2024" in text
    assert text.splitlines()[-1] == (
        "Until `make run` builds your own, `atp`, `make dev` and `make docs` show these."
    )
