"""Rules that a plausible rewrite could break without another test noticing (issue 10, C14-C18):
months covered come from both flows, the release lag's boundary, the newest month held is the
earlier flow's, and publishing replaces the file by rename (readers keep their copy)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date

import dagster as dg
import duckdb
import pytest

from fake_census import FakeCensusApi
from fake_census.fixtures import short_exports_fixture_dataset
from ingest.partitions import fetch_and_load
from ingest.publish import publish
from ingest.releases import newest_month_due, newest_month_held
from ingest.warehouse import connect
from orchestration.runner import run_pipeline
from tests.conftest import make_settings

B = 1_000_000_000
# Monthly ATP of the six fixture countries (fake_census.fixtures.ATP_MONTHLY), U.S. totals.
US_IMPORTS_MONTHLY = {2025: 32_700_000_000, 2026: 35_100_000_000}  # 10+9+7.5+2+1.2+3 bn ...
US_EXPORTS_MONTHLY = {2025: 16_100_000_000, 2026: 17_200_000_000}  # 4.4+2.4+2+1.8+5+0.5 bn ...


def query(path, sql, *params):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture
def short_exports_api():
    with FakeCensusApi(short_exports_fixture_dataset()) as api:
        yield api


# -- C14: months_covered is the months present in both flows ----------------------------------


def test_a_year_whose_exports_end_a_month_early_covers_eight_months(tmp_path, short_exports_api):
    # 2026: imports January-September, exports January-August. Counted from imports alone,
    # the year would cover 9 months and compare 9 months of imports with 9 of 2025.
    settings = make_settings(tmp_path, short_exports_api.base_url)
    out: list[str] = []
    code = run_pipeline(
        settings,
        "api",
        years=[2025, 2026],
        instance=dg.DagsterInstance.ephemeral(),
        out=out.append,
    )
    assert code == 0, "\n".join(out)
    rows = query(
        settings.warehouse,
        "SELECT year, months_covered, atp_imports_usd, atp_exports_usd, "
        "atp_imports_change_usd, atp_exports_change_usd, atp_imports_yoy_pct, "
        "atp_exports_yoy_pct FROM marts.fct_us_atp_year ORDER BY year",
    )
    assert [row[:2] for row in rows] == [(2025, 12), (2026, 8)]
    _, _, imports, exports, imports_change, exports_change, imports_yoy, exports_yoy = rows[1]
    assert (imports, exports) == (8 * US_IMPORTS_MONTHLY[2026], 8 * US_EXPORTS_MONTHLY[2026])
    assert (imports, exports) == (280_800_000_000, 137_600_000_000)
    # The YoY base is January-August 2025 in both flows: 8 months, not 9 (or 12).
    assert imports - imports_change == 8 * US_IMPORTS_MONTHLY[2025] == 261_600_000_000
    assert exports - exports_change == 8 * US_EXPORTS_MONTHLY[2025] == 128_800_000_000
    assert imports_yoy == pytest.approx(19.2 / 261.6 * 100)  # 7.34 %
    assert exports_yoy == pytest.approx(8.8 / 128.8 * 100)  # 6.83 %
    # The partner marts count the same months: Mexico's 2026 imports are 8 x 11 bn.
    assert query(
        settings.warehouse,
        "SELECT months_covered, atp_imports_usd, atp_imports_change_usd "
        "FROM marts.fct_atp_partner_year WHERE partner_code = '2010' AND year = 2026",
    ) == [(8, 88 * B, 8 * B)]


# -- C15: the release lag's boundary ----------------------------------------------------------


def test_a_month_is_due_on_the_day_month_end_plus_the_lag_is_reached():
    # September 30 + 40 days = November 9: due that day (<=), not the day after (<).
    assert newest_month_due(date(2026, 11, 9), 40) == "2026-09"
    assert newest_month_due(date(2026, 11, 8), 40) == "2026-08"
    # The same boundary for a 31-day month and another lag: August 31 + 10 days = September 10.
    assert newest_month_due(date(2026, 9, 10), 10) == "2026-08"
    assert newest_month_due(date(2026, 9, 9), 10) == "2026-07"


# -- C17: the newest month held is the earlier of the two flows --------------------------------


def test_the_newest_month_held_is_the_earlier_flows(tmp_path, short_exports_api):
    settings = make_settings(tmp_path, short_exports_api.base_url)
    for flow in ("imports", "exports"):
        assert fetch_and_load(settings, flow, 2026).status == "loaded"
    with connect(settings.warehouse, read_only=True) as con:
        newest = {
            flow: con.execute(f"SELECT max(time) FROM raw.census_hitech_{flow}").fetchone()[0]
            for flow in ("imports", "exports")
        }
        assert newest == {"imports": "2026-09", "exports": "2026-08"}
        assert newest_month_held(con) == "2026-08"


# -- C18: publishing is an atomic rename, never a rewrite in place -----------------------------


def make_warehouse(path, value: int) -> None:
    """A working file with two marts (what publish copies) whose values come from `value`."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.fct_atp_trade_monthly AS SELECT DATE '2026-09-01' AS month_start, "
            "?::BIGINT AS imports_usd",
            [value],
        )
        # Large and random enough (incompressible) to fill data blocks of its own, which a
        # reader fetches only when it reads the table.
        con.execute(
            "CREATE TABLE marts.fct_us_atp_year AS SELECT range::INTEGER AS year, "
            "(?::BIGINT * 1000000000000 + hash(range) % 1000000000)::BIGINT AS atp_imports_usd "
            "FROM range(200000)",
            [value],
        )


def publish_from(warehouse, published):
    return publish(warehouse, published, min_free_mb=0, source_api="http://fake")


def test_every_publish_gives_the_published_name_a_new_file(tmp_path):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "atp.duckdb"
    inodes, held = [], []
    try:
        for value in (1, 2, 3):
            make_warehouse(warehouse, value)
            publish_from(warehouse, published)
            # Held open, an old file's inode cannot be reused by the next one.
            held.append(os.open(published, os.O_RDONLY))
            inodes.append(os.fstat(held[-1]).st_ino)
            assert published.stat().st_mode & 0o777 == 0o444
            assert query(published, "SELECT imports_usd FROM marts.fct_atp_trade_monthly") == [
                (value,)
            ]
        assert len(set(inodes)) == 3, inodes  # a rewrite in place keeps one inode
        assert all(os.fstat(fd).st_nlink == 0 for fd in held[:-1])  # the old files: unlinked
    finally:
        for fd in held:
            os.close(fd)


READER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    one = "SELECT imports_usd FROM marts.fct_atp_trade_monthly"
    print(con.execute(one).fetchone()[0], flush=True)
    sys.stdin.readline()  # the test publishes again meanwhile
    other = "SELECT count(*), min(atp_imports_usd // 1000000000000) FROM marts.fct_us_atp_year"
    print(*con.execute(other).fetchone(), con.execute(one).fetchone()[0], flush=True)
    """
)


def test_an_open_session_reads_its_old_copy_even_of_a_table_it_had_not_read(tmp_path):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "atp.duckdb"
    make_warehouse(warehouse, 111)
    publish_from(warehouse, published)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "111"
        make_warehouse(warehouse, 222)
        publish_from(warehouse, published)
        output, errors = reader.communicate("\n", timeout=60)
    finally:
        reader.kill()
        reader.wait()
    assert reader.returncode == 0, errors
    # Both tables as the copy it opened held them (the second one read only now).
    assert output.split() == ["200000", "111", "111"]
    assert query(
        published, "SELECT DISTINCT atp_imports_usd // 1000000000000 FROM marts.fct_us_atp_year"
    ) == [(222,)]
