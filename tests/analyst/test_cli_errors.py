"""Every analyst command: --help, and one clear line on stderr with a non-zero exit for a missing
warehouse, unbuilt marts, an unloaded year or a bad argument."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from orchestration.cli import main
from tests.conftest import ROOT

COMMANDS = {
    "report": ["report", "--year", "2025"],
    "partner": ["partner", "mexico"],
    "category": ["category", "08", "--year", "2025"],
    "sql": ["sql", "SELECT 1"],
    "export": ["export", "--out", "EXPORT_DIR"],
}


def args_for(name, tmp_path):
    return [str(tmp_path / "out") if a == "EXPORT_DIR" else a for a in COMMANDS[name]]


@pytest.mark.parametrize("name", [None, "run", "refresh", "rebuild", *COMMANDS])
def test_help_exits_zero(capsys, name):
    argv = [name, "--help"] if name else ["--help"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: atp {name}" if name else "usage: atp ")


@pytest.mark.parametrize("name", COMMANDS)
def test_a_missing_warehouse_is_one_line(published, capsys, tmp_path, monkeypatch, name):
    missing = tmp_path / "missing.duckdb"
    monkeypatch.setenv("ATP_PUBLISHED", str(missing))
    assert main(args_for(name, tmp_path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"atp {name}: no warehouse at {missing}") and "make run" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", COMMANDS)
def test_a_warehouse_without_marts_is_one_line(published, capsys, tmp_path, monkeypatch, name):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("ATP_PUBLISHED", str(empty))
    assert main(args_for(name, tmp_path)) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"atp {name}: {empty} has no marts: run `make run` (or `make rebuild`) to build and publish them.\n"
    )


# Every command that reads the published copy, with arguments it would answer on a good one.
READERS = {
    **COMMANDS,
    "brief": ["brief", "mexico", "--year", "2024"],
    "html": ["html", "--out", "EXPORT_DIR"],
    "status": ["status"],
}
DUCKDB_HEADERS = 3 * 4096  # the file's headers: kept, so that DuckDB opens the file


@pytest.fixture(scope="module")
def damaged_copies(published, tmp_path_factory):
    """A file of garbage bytes, and the published copy with every block after its headers
    overwritten (DuckDB opens it, then finds a block failing its checksum)."""
    folder = tmp_path_factory.mktemp("damaged")
    good = published.published.read_bytes()
    garbage = folder / "garbage.duckdb"
    garbage.write_bytes(bytes(range(256)) * 64)
    blocks = folder / "blocks.duckdb"
    blocks.write_bytes(good[:DUCKDB_HEADERS] + b"\xa5" * (len(good) - DUCKDB_HEADERS))
    return {"not a DuckDB database": garbage, "a block fails its checksum": blocks}


@pytest.mark.parametrize("damage", ["not a DuckDB database", "a block fails its checksum"])
@pytest.mark.parametrize("name", READERS)
def test_a_damaged_published_copy_is_one_line_with_the_fix(
    damaged_copies, capsys, tmp_path, monkeypatch, name, damage
):
    path = damaged_copies[damage]
    monkeypatch.setenv("ATP_PUBLISHED", str(path))
    argv = [str(tmp_path / "out") if a == "EXPORT_DIR" else a for a in READERS[name]]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"atp {name}: the published copy {path} is damaged ({damage}): run `atp rebuild` (from "
        "the landing zone, no network) or `make run` to publish it again.\n"
    )


@pytest.mark.parametrize("name", ["report", "category"])
def test_an_unloaded_year_is_one_line(published, capsys, name):
    argv = [a if a != "2025" else "2019" for a in COMMANDS[name]]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"atp {name}: 2019 is not loaded in {published.published} (years loaded: 2024-2026). "
        "Set ATP_START_YEAR and run `make run` to load it.\n"
    )
    # a year after the newest: no data yet, and how far the data runs
    assert main([a if a != "2025" else "2031" for a in COMMANDS[name]]) == 2
    assert capsys.readouterr().err == (
        f"atp {name}: 2031 has no data yet: {published.published} runs through 2026 "
        "(9 months of it).\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report"], "atp report: the following arguments are required: --year"),
        (["report", "--year", "20x"], "atp report: argument --year: expected a four-digit year"),
        (
            ["report", "--year", "2025", "--top", "0"],
            "atp report: argument --top: expected a whole",
        ),
        (["report", "--year", "2025", "--format", "xml"], "atp report: argument --format: invalid"),
        (["category", "08", "--year", "2025", "--flow", "both"], "atp category: argument --flow"),
        (["partner", "mexico", "--format", "csv"], "atp partner: argument --format: invalid"),
        (["export", "--out", "x", "--format", "xlsx"], "atp export: argument --format: invalid"),
        (["sql"], "atp sql: the following arguments are required: SQL"),
        (["frobnicate"], "atp: argument COMMAND: invalid choice: 'frobnicate'"),
        ([], "atp: the following arguments are required: COMMAND"),
    ],
)
def test_a_bad_argument_is_one_line(capsys, argv, message):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert "--help" in err


def test_the_analyst_commands_load_no_dagster(published):
    code = (
        "import sys\n"
        "from orchestration.cli import main\n"
        "assert main(['report', '--year', '2025', '--format', 'csv']) == 0\n"
        "assert main(['partner', '2010', '--format', 'json']) == 0\n"
        "assert main(['sql', 'SELECT 1']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt'))\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "ATP_PUBLISHED": str(published.published)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["partner", "mexico", "--bogus"], "partner"),
        (["report", "--year", "2025", "extra"], "report"),
        (["brief", "mexico", "--top", "3"], "brief"),
    ],
)
def test_an_unknown_argument_names_the_subcommands_help(capsys, argv, command):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"atp {command}: unrecognized arguments: ")
    assert err.endswith(f" (see `atp {command} --help`)\n") and err.count("\n") == 1


def test_a_copy_published_before_product_detail_names_what_it_lacks(
    published, capsys, tmp_path, monkeypatch
):
    older = tmp_path / "older.duckdb"
    with duckdb.connect(str(older)) as con:
        con.execute(f"ATTACH '{published.published}' AS copy (READ_ONLY)")
        con.execute("CREATE SCHEMA marts")
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'copy' "
            "AND schema_name = 'marts' AND table_name NOT LIKE 'fct_atp_product%'"
        ).fetchall():
            con.execute(f"CREATE TABLE marts.{table} AS SELECT * FROM copy.marts.{table}")
    monkeypatch.setenv("ATP_PUBLISHED", str(older))
    assert main(["products", "mexico", "--year", "2025"]) == 2
    assert capsys.readouterr().err == (
        f"atp products: {older} has no marts.fct_atp_product_year: run `make run` (or `make "
        "rebuild`) to publish them.\n"
    )
    # ... and the brief of such a copy simply has no "Which products".
    assert main(["brief", "mexico", "--year", "2025"]) == 0
    assert "Which products" not in capsys.readouterr().out
