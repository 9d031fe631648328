"""`atp export`: every mart table to parquet or csv files, with a README of their columns."""

from __future__ import annotations

import re

import duckdb
import pytest

from analyst.queries import mart_descriptions
from orchestration.cli import main


@pytest.fixture(scope="module")
def marts(published):
    """{table: (row count, [(column, type)])} of the published marts."""
    with duckdb.connect(str(published.published), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            t: (
                con.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0],
                con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position",
                    [t],
                ).fetchall(),
            )
            for t in tables
        }


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_writes_one_file_per_mart_and_a_readme(published, marts, capsys, tmp_path, fmt):
    out = tmp_path / "export"
    assert main(["export", "--out", str(out), "--format", fmt]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"Exported {len(marts)} mart tables ({fmt}) to {out}:")
    assert "fct_atp_partner_year" in marts and len(marts) >= 7
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.{fmt}" for t in marts] + ["README.md"]
    )
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    with duckdb.connect() as con:
        for table, (count, columns) in marts.items():
            path = out / f"{table}.{fmt}"
            assert con.execute(f"SELECT count(*) FROM {reader}('{path}')").fetchall()[0][0] == count
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}('{path}')").fetchall()
            assert [c[0] for c in described] == [c[0] for c in columns]
        if fmt == "parquet":  # types survive: money is BIGINT
            described = dict(
                (c[0], c[1])
                for c in con.execute(
                    f"DESCRIBE SELECT * FROM read_parquet('{out}/fct_atp_partner_year.parquet')"
                ).fetchall()
            )
            assert described["atp_imports_usd"] == "BIGINT"
            mexico = con.execute(
                f"SELECT atp_imports_usd FROM read_parquet('{out}/fct_atp_partner_year.parquet') "
                "WHERE partner_code = '2010' AND year = 2025"
            ).fetchall()
            assert mexico == [(120_000_000_000,)]

    readme = (out / "README.md").read_text()
    for table, (count, columns) in marts.items():
        assert f"## {table}\n" in readme
        assert f"File `{table}.{fmt}`: {count:,} rows." in readme
        for name, kind in columns:
            assert re.search(rf"^\| {name} \| {re.escape(kind)} \| ", readme, re.M), (table, name)
    # descriptions come from the published copy's comments (dbt's persist_docs)
    assert "Column descriptions: the dbt models' documentation" in readme
    assert "| partner_kind | VARCHAR | 'country' (code matches" in readme
    assert "| year | INTEGER | Calendar year (INTEGER). |" in readme


def test_descriptions_come_from_the_published_copys_comments(published):
    # dbt writes every mart's descriptions as DuckDB comments (persist_docs); publishing keeps
    # them, so the copy documents itself: no dbt project needed to read them.
    with duckdb.connect(str(published.published), read_only=True) as con:
        found = mart_descriptions(con)
    assert found.columns["fct_atp_partner_year"]["year"] == "Calendar year (INTEGER)."
    assert found.models["fct_atp_partner_year"].startswith("One row per")
    assert all(found.columns[table] for table in found.models)


def test_export_refuses_a_file_as_directory(published, capsys, tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    assert main(["export", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == f"atp export: {target} exists and is not a directory.\n"
