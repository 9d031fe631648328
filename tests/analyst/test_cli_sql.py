"""`atp sql`: read-only queries on the published marts in every format; writes are refused."""

from __future__ import annotations

import csv
import io
import json
import time

import duckdb
import pytest

from orchestration.cli import main

TOP2 = (
    "SELECT partner_code, atp_imports_usd, atp_imports_share_pct FROM fct_atp_partner_year "
    "WHERE year = 2025 ORDER BY atp_imports_usd DESC LIMIT 2"
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_select_as_an_aligned_table(published, capsys):
    # unqualified mart names work (search path: marts, main); integers with thousands
    # separators, an arithmetic double (100 x 120 / 392.4) to 6 significant digits, numbers on
    # the right; the fixture is not
    # Census data (a fake API on 127.0.0.1), which the last line says
    code, out, err = run(capsys, "sql", TOP2)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "partner_code  atp_imports_usd  atp_imports_share_pct",
        "2010          120,000,000,000                30.581",
        "5700          108,000,000,000                27.5229",
        "(2 rows)",
        "Source: API at 127.0.0.1, not the Census Bureau (advanced technology products).",
    ]


def test_numbers_for_people_never_in_scientific_notation(published, capsys):
    query = (
        "SELECT year, 0.0000671 AS small, 6.71e-05::DOUBLE AS tiny, 1e20::DOUBLE AS huge, "
        "-0.0::DOUBLE AS zero, 12345::BIGINT AS n, 2.5::DOUBLE AS x "
        "FROM fct_us_atp_year WHERE year = 2024 "
        "UNION ALL SELECT 2025, 1.5, 123.456, 2.0, 1.0, 7, 1234.5678"
    )
    code, out, _ = run(capsys, "sql", query)
    assert code == 0
    lines = out.splitlines()
    assert "e-" not in out and "e+" not in out
    assert lines[0].split() == ["year", "small", "tiny", "huge", "zero", "n", "x"]
    # decimal points line up in a column; the year has no thousands separator; a DECIMAL
    # keeps its scale, a double shows the digits it has (2.0 as 2)
    assert lines[1:3] == [
        "2024  0.0000671    0.0000671  100,000,000,000,000,000,000     0  12,345      2.5",
        "2025  1.5000000  123.456                                2     1       7  1,234.5678",
    ]
    # csv and json keep the exact values
    code, out, _ = run(capsys, "sql", query, "--format", "json")
    assert json.loads(out)[1]["tiny"] == 123.456 and json.loads(out)[0]["huge"] == 1e20


def test_a_rounded_value_shows_every_digit_it_has(published, capsys):
    # The query rounds; the table must not round again (issue: -298.95 read -298.9, 112.37
    # read 112.4, 9.0 read 9.000, -0.8 read -0.8000). Mexico 2025: balance 52.8 - 120 bn.
    query = (
        "SELECT round(atp_balance_usd / 1e9, 2) AS balance_bn, 112.37::DOUBLE AS a, "
        "9.0::DOUBLE AS b, -0.8::DOUBLE AS c, -298.95::DOUBLE AS d, 12.5::DECIMAL(18, 2) AS e "
        "FROM fct_atp_partner_year WHERE partner_code = '2010' AND year = 2025"
    )
    code, out, _ = run(capsys, "sql", query)
    assert code == 0
    assert out.splitlines()[1].split() == ["-67.2", "112.37", "9", "-0.8", "-298.95", "12.50"]
    code, out, _ = run(capsys, "sql", query, "--format", "markdown")
    assert out.splitlines()[2] == "| -67.2 | 112.37 | 9 | -0.8 | -298.95 | 12.50 |"


def test_the_readme_top_10_keeps_its_rounding(published, capsys):
    query = (
        "SELECT partner_name, round(atp_imports_usd / 1e9, 2) AS bn, "
        "round(atp_imports_yoy_pct, 1) AS yoy, round(atp_imports_share_pct, 1) AS share, "
        "round(atp_balance_usd / 1e9, 2) AS balance FROM marts.fct_atp_partner_year "
        "WHERE year = 2025 ORDER BY atp_imports_rank LIMIT 3"
    )
    code, out, _ = run(capsys, "sql", query, "--format", "markdown")
    assert code == 0
    # Mexico 120 bn +25%, 30.58%, 52.8 - 120; China 108 bn -25%, 27.52%, 28.8 - 108; Taiwan
    # 90 bn +50%, 22.94%, 24 - 90
    assert out.splitlines()[2:5] == [
        "| Mexico | 120 | 25 | 30.6 | -67.2 |",
        "| China | 108 | -25 | 27.5 | -79.2 |",
        "| Taiwan | 90 | 50 | 22.9 | -66 |",
    ]


def test_select_as_csv_json_and_markdown(published, capsys):
    code, out, _ = run(capsys, "sql", TOP2, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["partner_code"], int(r["atp_imports_usd"])) for r in rows] == [
        ("2010", 120_000_000_000),
        ("5700", 108_000_000_000),
    ]
    assert float(rows[0]["atp_imports_share_pct"]) == pytest.approx(100 * 120 / 392.4, rel=1e-15)

    code, out, _ = run(capsys, "sql", TOP2.replace("LIMIT 2", "LIMIT 1"), "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "partner_code": "2010",
            "atp_imports_usd": 120_000_000_000,
            "atp_imports_share_pct": pytest.approx(100 * 120 / 392.4, rel=1e-15),
        }
    ]

    code, out, _ = run(
        capsys,
        "sql",
        "SELECT year, atp_imports_yoy_pct FROM marts.fct_us_atp_year ORDER BY year",
        "--format",
        "markdown",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["| year | atp_imports_yoy_pct |", "| ---: | ---: |", "| 2024 | NULL |"]
    assert lines[3] == "| 2025 | 16.7857 |"  # 100 x 56.4 / 336: 6 significant digits


def test_query_from_stdin_and_the_publication_table(published, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT newest_month FROM publication"))
    code, out, _ = run(capsys, "sql", "-", "--format", "csv")
    assert (code, out) == (0, "newest_month\n2026-09\n")


@pytest.mark.parametrize(
    ("statement", "word"),
    [
        ("DROP TABLE marts.dim_partner", "DROP"),
        ("INSERT INTO marts.dim_partner SELECT * FROM marts.dim_partner", "INSERT"),
        ("WITH x AS (SELECT 1) DELETE FROM marts.dim_partner", "DELETE"),
        ("UPDATE marts.fct_us_atp_year SET atp_imports_usd = 0", "UPDATE"),
        ("CREATE TABLE marts.t AS SELECT 1", "CREATE"),
        ("ATTACH 'other.duckdb' AS other", "ATTACH"),
        ("COPY marts.dim_partner TO 'partners.csv'", "COPY"),
        ("EXPORT DATABASE 'dump'", "EXPORT"),
    ],
)
def test_a_write_is_refused_before_it_runs(
    published, capsys, tmp_path, monkeypatch, statement, word
):
    monkeypatch.chdir(tmp_path)  # anything written by mistake would land here
    code, out, err = run(capsys, "sql", statement)
    assert code == 2 and out == ""
    assert err.startswith(f"atp sql: refused: {word} writes") and err.count("\n") == 1
    assert "read-only" in err
    assert list(tmp_path.iterdir()) == []
    with duckdb.connect(str(published.published), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.dim_partner").fetchall() == [(9,)]
        assert (
            con.execute("SELECT min(atp_imports_usd) FROM marts.fct_us_atp_year").fetchall()[0][0]
            > 0
        )


def test_duckdb_refusals_are_one_line_too(published, capsys, tmp_path):
    # EXPLAIN passes the statement check; DuckDB's read-only error is turned into one line.
    code, out, err = run(capsys, "sql", "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1")
    assert code == 2 and out == ""
    assert err.startswith("atp sql: refused: the published warehouse is read-only (")
    assert err.count("\n") == 1
    # the session has no file access: no reading around the warehouse, no writing through EXPLAIN
    target = tmp_path / "out.csv"
    code, _, err = run(capsys, "sql", f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{target}'")
    assert code == 2 and "without file access" in err and not target.exists()
    code, _, err = run(capsys, "sql", "SELECT * FROM read_csv('/etc/hostname')")
    assert code == 2 and "without file access" in err and err.count("\n") == 1


def test_other_statements_and_errors(published, capsys):
    code, _, err = run(capsys, "sql", "SET threads = 1")
    assert code == 2 and err.startswith("atp sql: refused: SET is not allowed")
    code, _, err = run(capsys, "sql", "SELECT 1; SELECT 2")
    assert code == 2 and "2 statements given" in err
    code, _, err = run(capsys, "sql", "SELEC 1")
    assert (
        code == 2 and err.startswith("atp sql: Parser Error: syntax error") and err.count("\n") == 1
    )
    code, _, err = run(capsys, "sql", "SELECT * FROM no_such_table")
    assert code == 2 and "no_such_table does not exist" in err and err.count("\n") == 1
    code, _, err = run(capsys, "sql", "  ")
    assert code == 2 and err == "atp sql: no SQL statement given.\n"


# -- bounds: time and memory --------------------------------------------------------------------

CROSS_JOIN = "SELECT count(*) FROM range(1000000000) a, range(1000000000) b"
STOPPED = (
    "atp sql: query stopped after 1 s (ATP_SQL_TIMEOUT_SECONDS); add a LIMIT or raise --timeout\n"
)


def test_a_query_is_stopped_at_its_timeout(published, capsys):
    started = time.monotonic()
    code, out, err = run(capsys, "sql", CROSS_JOIN, "--timeout", "1")
    assert time.monotonic() - started < 5
    assert (code, out, err) == (2, "", STOPPED)


def test_the_timeout_comes_from_the_setting_and_0_means_none(published, capsys, monkeypatch):
    monkeypatch.setenv("ATP_SQL_TIMEOUT_SECONDS", "1")
    started = time.monotonic()
    assert run(capsys, "sql", CROSS_JOIN) == (2, "", STOPPED)
    assert time.monotonic() - started < 5
    # --timeout wins over the setting; 0 is no limit
    assert run(capsys, "sql", "SELECT 42 AS n", "--timeout", "0", "--format", "csv") == (
        0,
        "n\n42\n",
        "",
    )
    monkeypatch.setenv("ATP_SQL_TIMEOUT_SECONDS", "soon")
    code, _, err = run(capsys, "sql", "SELECT 1")
    assert code == 2 and "ATP_SQL_TIMEOUT_SECONDS='soon' is not a whole number" in err
    code, _, err = run(capsys, "sql", "SELECT 1", "--timeout", "-1")
    assert code == 2 and err.startswith("atp sql: argument --timeout: expected a whole number")


def test_csv_and_json_write_rows_as_they_come(published, capsys):
    code, out, err = run(capsys, "sql", "SELECT range AS n FROM range(100000)", "--format", "csv")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 100_001 and lines[:3] == ["n", "0", "1"] and lines[-1] == "99999"
    code, out, _ = run(capsys, "sql", "SELECT range AS n FROM range(5000)", "--format", "json")
    assert code == 0 and json.loads(out) == [{"n": n} for n in range(5000)]
    # Rows already written stay written when the time runs out: nothing waited for the end.
    code, out, err = run(
        capsys,
        "sql",
        "SELECT range AS n FROM range(1000000000000)",
        "--format",
        "csv",
        "--timeout",
        "1",
    )
    assert (code, err) == (2, STOPPED)
    lines = out.splitlines()
    assert lines[:3] == ["n", "0", "1"] and len(lines) > 10_000


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_table_for_people_shows_the_first_1000_rows_and_says_how_many_more(
    published, capsys, fmt
):
    code, out, err = run(capsys, "sql", "SELECT range AS n FROM range(2500)", "--format", fmt)
    assert (code, err) == (0, "")
    lines = [line for line in out.splitlines() if line]
    assert lines[-2:] == [
        "(the first 1,000 of 2,500 rows shown; 1,500 more with --format csv)",
        "Source: API at 127.0.0.1, not the Census Bureau (advanced technology products).",
    ]
    if fmt == "table":
        assert lines[0] == "  n" and lines[1] == "  0" and lines[1000] == "999"
        assert len(lines) == 1 + 1000 + 2
    else:
        assert lines[2] == "| 0 |" and lines[1001] == "| 999 |" and len(lines) == 2 + 1000 + 2
    # exactly 1,000 rows: all shown, no note
    code, out, _ = run(capsys, "sql", "SELECT range AS n FROM range(1000)")
    assert out.splitlines()[-2] == "(1,000 rows)"
