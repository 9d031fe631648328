"""Landing zone and partition loads: verbatim files, atomic replace, idempotence, offline reload."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import duckdb
import pytest

from fake_census import FakeCensusApi, fixture_dataset, revised_fixture_dataset
from ingest import warehouse
from ingest.census_format import parse_table
from ingest.client import RetryBudget
from ingest.errors import (
    CensusAuthError,
    CensusResponseError,
    LandingError,
    WarehouseBusyError,
    WarehouseError,
)
from ingest.landing import land, landed_files, newest_landed
from ingest.partitions import fetch_and_load, load_years, reload_from_landing
from tests.conftest import SENTINEL_KEY, at_api


def raw_rows(settings, flow="imports", year=None):
    where = "" if year is None else f"WHERE year = {int(year)}"
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            f"SELECT * EXCLUDE (_fetched_at, _landing_file) FROM {warehouse.raw_table(flow)} "
            f"{where} ORDER BY ALL"
        ).fetchall()


def test_every_fetch_is_landed_verbatim_with_a_manifest(env, client, fake_api):
    census, _ = client
    result = fetch_and_load(env, "imports", 2026, census)
    landed = newest_landed(env.landing_dir, "imports", 2026)
    served = fake_api.data_requests[-1]
    assert landed.path.parent == env.landing_dir / "imports" / "2026"
    manifest = json.loads(landed.path.with_name(landed.path.stem + ".manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(landed.path.read_bytes()).hexdigest()
    assert manifest["endpoint"] == "imports/hitech"
    assert manifest["request"].endswith(
        "/imports/hitech?get=CTY_CODE%2CCTY_NAME%2CHITECH%2CHITECH_DESC%2CGEN_VAL_MO"
        "&time=from+2026-01+to+2026-12"
    )
    assert (manifest["rows"], manifest["first_month"], manifest["last_month"]) == (
        9 * 12 * 9,
        "2026-01",
        "2026-09",
    )
    assert manifest["fetched_at"].endswith("+00:00")
    assert result.rows == manifest["rows"] and result.landing_file == (
        f"imports/2026/{landed.path.name}"
    )
    assert served.param("key") == SENTINEL_KEY and SENTINEL_KEY not in json.dumps(manifest)
    # Verbatim: the parsed landed bytes give back exactly the rows that were loaded.
    assert len(landed.read_table().rows) == len(raw_rows(env, "imports", 2026))
    assert not list(env.landing_dir.rglob(".tmp-*"))  # no temporary files left behind


def test_landed_files_are_never_overwritten(env, client):
    census, _ = client
    fetch = census.fetch_year("exports", 2024)
    land(env.landing_dir, fetch)
    with pytest.raises(LandingError, match="never overwritten"):
        land(env.landing_dir, fetch)  # same fetched-at, same name
    fetch_and_load(env, "exports", 2024, census)
    assert len(landed_files(env.landing_dir, "exports", 2024)) == 2


def test_reloading_a_partition_gives_the_same_rows_and_leaves_other_years(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2024, census)
    fetch_and_load(env, "imports", 2025, census)
    before_2024, before_2025 = raw_rows(env, year=2024), raw_rows(env, year=2025)
    fetch_and_load(env, "imports", 2025, census)
    assert raw_rows(env, year=2025) == before_2025
    assert raw_rows(env, year=2024) == before_2024
    assert len(raw_rows(env)) == len(before_2024) + len(before_2025)


def test_a_failure_mid_load_leaves_the_previous_rows(env, client, fake_api, monkeypatch):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)
    before = raw_rows(env)
    fake_api.dataset = revised_fixture_dataset()  # so a load that went through would show

    def replace_then_fail(con, *args):
        real_replace(con, *args)  # the year points at the new vintage, uncommitted
        raise RuntimeError("disk fell off")

    real_replace = warehouse._make_current
    monkeypatch.setattr(warehouse, "_make_current", replace_then_fail)
    with pytest.raises(RuntimeError, match="disk fell off"):
        fetch_and_load(env, "imports", 2025, census)
    assert raw_rows(env) == before
    monkeypatch.setattr(warehouse, "_make_current", real_replace)
    fetch_and_load(env, "imports", 2025, census)
    assert raw_rows(env) != before


def test_a_bad_table_writes_nothing(env, client, fake_api):
    census, _ = client
    fetch_and_load(env, "exports", 2025, census)
    before = raw_rows(env, "exports")
    fake_api.script("bad_value")
    with pytest.raises(CensusResponseError):
        fetch_and_load(env, "exports", 2025, census)
    assert raw_rows(env, "exports") == before
    assert len(landed_files(env.landing_dir, "exports", 2025)) == 1


def test_204_keeps_the_rows_already_stored(env, client, fake_api):
    census, _ = client
    fetch_and_load(env, "imports", 2026, census)
    before = raw_rows(env)
    fake_api.script("204")
    result = fetch_and_load(env, "imports", 2026, census)
    assert (result.status, result.rows, result.stored_rows) == ("not_released", 0, len(before))
    assert "not released yet" in result.describe()
    assert raw_rows(env) == before


def test_rebuild_reloads_the_newest_landed_file_without_the_network(env, client, fake_api):
    census, _ = client
    fetch_and_load(env, "exports", 2024, census)
    fetch_and_load(env, "exports", 2024, census)
    expected = raw_rows(env, "exports")
    newest = newest_landed(env.landing_dir, "exports", 2024)
    fake_api.stop()
    with duckdb.connect(str(env.warehouse)) as con:
        con.execute(
            "DROP VIEW raw.census_hitech_exports; DROP TABLE raw.census_hitech_exports_current"
        )
    result = reload_from_landing(env, "exports", 2024)
    assert result.status == "loaded" and result.requests == 0
    assert result.landing_file.endswith(newest.path.name)
    assert raw_rows(env, "exports") == expected
    assert reload_from_landing(env, "exports", 2019).status == "not_landed"


def test_rebuild_dates_a_reused_file_by_its_first_fetch_like_the_api_path(env, client):
    # An identical re-fetch reuses the landed file under a newer manifest and changes nothing:
    # the raw rows and the history's vintage keep its first fetch time; a rebuild from scratch
    # must give the same.
    census, _ = client
    fetch_and_load(env, "exports", 2024, census)
    fetch_and_load(env, "exports", 2024, census)
    first, second = landed_files(env.landing_dir, "exports", 2024)
    assert first.path == second.path and first.fetched_at < second.fetched_at

    def fetch_times():
        with duckdb.connect(str(env.warehouse), read_only=True) as con:
            return [
                con.execute(f"SELECT DISTINCT _fetched_at FROM {table}").fetchall()
                for table in ("raw.census_hitech_exports", "raw.census_hitech_exports_history")
            ]

    from_api = fetch_times()
    assert from_api == [
        [(first.fetched_at.replace(tzinfo=None),)],
        [(first.fetched_at.replace(tzinfo=None),)],
    ]
    env.warehouse.unlink()
    reload_from_landing(env, "exports", 2024)
    assert fetch_times() == from_api


def test_a_damaged_landed_file_is_refused(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2024, census)
    landed = newest_landed(env.landing_dir, "imports", 2024)
    landed.path.write_bytes(landed.path.read_bytes().replace(b"MEXICO", b"MEXICA"))
    with pytest.raises(LandingError, match="does not match the sha256"):
        reload_from_landing(env, "imports", 2024)


def test_a_warehouse_held_by_another_process_is_reported_busy(env, client):
    census, _ = client
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "time.sleep(60)",
            str(env.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusyError, match="warehouse busy.*warehouse.duckdb"):
            fetch_and_load(env, "imports", 2024, census)
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert fetch_and_load(env, "imports", 2024, census).status == "loaded"


def _landed_body(tmp_path, header, rows):
    """An imports 2025 response body written to a file, and its validated parse."""
    body = tmp_path / "body.json"
    body.write_text(json.dumps([header, *rows]))
    return body, parse_table(body.read_bytes(), "imports", 2025)


def _load_body(con, table, body):
    return warehouse.load_partition(
        con, table, [body], fetched_at=datetime.now(UTC), landing_file="imports/body.json"
    )


def test_a_body_loads_by_header_name_with_missing_values_as_null(tmp_path):
    # Columns in another order, an appended predicate column repeating a name, a null name, and
    # missing values (null and "") in the first data rows: the loader reads the body by the
    # validated header positions, as the parse does, and skips only the header.
    header = ["HITECH", "CTY_NAME", "GEN_VAL_MO", "CTY_CODE", "HITECH_DESC", "time", "CTY_CODE"]
    rows = [
        ["03", "MEXICO", None, "2010", "OPTO", "2025-01", "2010"],
        ["04", "MEXICO", "", "2010", "INFO", "2025-01", "2010"],
        ["01", "MEXICO", "100", "2010", "BIOTECHNOLOGY", "2025-01", "2010"],
        ["02", None, "7", "2010", "LIFE SCIENCE", "2025-02", "2010"],
    ]
    body, table = _landed_body(tmp_path, header, rows)
    assert table.missing_values == 2
    with warehouse.writer(tmp_path / "warehouse.duckdb") as con:
        loaded = _load_body(con, table, body)
        stored = con.execute(
            'SELECT "CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time", year '
            "FROM raw.census_hitech_imports ORDER BY ALL"
        ).fetchall()
        history_nulls = con.execute(
            "SELECT count(*) FROM raw.census_hitech_imports_history WHERE GEN_VAL_MO IS NULL"
        ).fetchall()
    assert loaded is True and len(table.rows) == 4
    assert stored == [
        ("2010", "", "02", "LIFE SCIENCE", "7", "2025-02", 2025),
        ("2010", "MEXICO", "01", "BIOTECHNOLOGY", "100", "2025-01", 2025),
        ("2010", "MEXICO", "03", "OPTO", None, "2025-01", 2025),
        ("2010", "MEXICO", "04", "INFO", None, "2025-01", 2025),
    ]
    assert stored == sorted((*row, 2025) for row in table.rows)  # what the parse validated
    assert history_nulls == [(2,)]


def test_missing_values_are_loaded_as_null_counted_and_reported(env, client, fake_api):
    census, _ = client
    fake_api.blank_values = 3
    result = fetch_and_load(env, "imports", 2025, census)
    assert result.missing_values == 3
    assert result.describe() == (
        "imports 2025: 1,296 rows, 12 month(s) 2025-01..2025-12, 3 missing values"
    )
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        counts = [
            con.execute(
                f"SELECT count(*), count(GEN_VAL_MO), count(*) FILTER (GEN_VAL_MO = '') FROM {t}"
            ).fetchall()
            for t in ("raw.census_hitech_imports", "raw.census_hitech_imports_history")
        ]
    assert counts == [[(1296, 1293, 0)], [(1296, 1293, 0)]]
    landed = newest_landed(env.landing_dir, "imports", 2025)
    assert landed.manifest["missing_values"] == 3
    assert reload_from_landing(env, "imports", 2025).missing_values == 3
    fake_api.blank_values = 1
    assert fetch_and_load(env, "imports", 2025, census).describe().endswith(", 1 missing value")
    fake_api.blank_values = 0
    assert "missing" not in fetch_and_load(env, "imports", 2025, census).describe()


# ----------------------------------------------------------------------------------------------
# A vintage is its content, not its bytes


def history(settings, flow="imports"):
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            f"SELECT _landing_file, _content_sha256, count(*) FROM {warehouse.history_table(flow)} "
            "GROUP BY ALL ORDER BY min(_fetched_at)"
        ).fetchall()


def landed_bodies(settings):
    return sorted(
        p.name
        for p in settings.landing_dir.rglob("*.json")
        if not p.name.endswith(".manifest.json")
    )


def test_the_same_rows_in_another_order_are_not_a_new_vintage(env, client, fake_api):
    census, _ = client
    first = fetch_and_load(env, "imports", 2025, census)
    before = raw_rows(env)
    fake_api.reverse_rows = True
    second = fetch_and_load(env, "imports", 2025, census)
    old, new = landed_files(env.landing_dir, "imports", 2025)
    assert old.path == new.path and len(landed_bodies(env)) == 1  # no new landed body
    assert new.manifest["content_sha256"] == old.manifest["content_sha256"] == first.content_sha256
    assert new.manifest["response_sha256"] != new.manifest["sha256"] == old.manifest["sha256"]
    assert new.read_checked()  # the manifest's checksum is the reused file's
    assert history(env) == [(first.landing_file, first.content_sha256, 1296)]
    assert (
        second.landing_file == first.landing_file and second.content_sha256 == first.content_sha256
    )
    assert raw_rows(env) == before
    # Other content is a new vintage, as before.
    fake_api.dataset = revised_fixture_dataset()
    third = fetch_and_load(env, "imports", 2025, census)
    assert third.content_sha256 != first.content_sha256 and len(history(env)) == 2
    assert len(landed_bodies(env)) == 2


def test_a_manifest_without_a_content_hash_is_compared_by_its_file(env, client, fake_api):
    census, _ = client
    first = fetch_and_load(env, "exports", 2024, census)
    (landed,) = landed_files(env.landing_dir, "exports", 2024)
    manifest_path = landed.path.with_name(landed.path.stem + ".manifest.json")
    old = json.loads(manifest_path.read_text())
    for field in ("content_sha256", "response_sha256", "missing_values"):
        del old[field]  # as written before these fields existed
    manifest_path.write_text(json.dumps(old))
    fake_api.reverse_rows = True
    fetch_and_load(env, "exports", 2024, census)
    assert len(landed_bodies(env)) == 1
    assert len(landed_files(env.landing_dir, "exports", 2024)) == 2
    assert history(env, "exports") == [(first.landing_file, first.content_sha256, 1152)]


def test_the_loader_adds_no_vintage_for_the_same_content_in_another_file(tmp_path):
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    a = [
        ["2010", "MEXICO", "01", "BIO", "1", "2025-01"],
        ["5700", "CHINA", "01", "BIO", None, "2025-01"],
    ]
    b = [
        ["2010", "MEXICO", "01", "BIO", "2", "2025-01"],
        ["5700", "CHINA", "01", "BIO", None, "2025-01"],
    ]
    files = {}
    for name, rows in [("a", a), ("a_reordered", a[::-1]), ("b", b), ("a_again", a[::-1])]:
        folder = tmp_path / name
        folder.mkdir()
        files[name] = _landed_body(folder, header, rows)
    assert files["a"][1].content_hash == files["a_reordered"][1].content_hash
    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def load(con, name, hour):
        body, table = files[name]
        when = t0.replace(hour=hour)
        return warehouse.load_partition(con, table, [body], fetched_at=when, landing_file=name)

    with warehouse.writer(tmp_path / "warehouse.duckdb") as con:

        def state():
            vintages = con.execute(
                "SELECT _landing_file, count(*) FROM raw.census_hitech_imports_history "
                "GROUP BY ALL ORDER BY min(_fetched_at)"
            ).fetchall()
            current = con.execute(
                "SELECT DISTINCT _landing_file, _fetched_at, GEN_VAL_MO "
                "FROM raw.census_hitech_imports WHERE CTY_CODE = '2010'"
            ).fetchall()
            return vintages, current

        assert load(con, "a", 1) is True
        assert load(con, "a_reordered", 2) is False  # the same content: nothing changes
        assert state() == ([("a", 2)], [("a", datetime(2026, 1, 1, 1), "1")])
        assert load(con, "b", 3) is True
        # Back to the first content after a revision: that is a new vintage, the latest one.
        assert load(con, "a_again", 4) is True
        assert state() == (
            [("a", 2), ("b", 2), ("a_again", 2)],
            [("a_again", datetime(2026, 1, 1, 4), "1")],
        )


def test_an_older_warehouse_gains_the_content_hash_column(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.census_hitech_exports_history (CTY_CODE VARCHAR, CTY_NAME VARCHAR, "
            "HITECH VARCHAR, HITECH_DESC VARCHAR, ALL_VAL_MO VARCHAR, time VARCHAR, "
            "year INTEGER NOT NULL, _fetched_at TIMESTAMP NOT NULL, _landing_file VARCHAR NOT NULL)"
        )
        con.execute(
            "INSERT INTO raw.census_hitech_exports_history VALUES "
            "('-', 'T', '-', 'T', '5', '2025-01', 2025, '2026-01-01', 'old.json')"
        )
    with warehouse.writer(path) as con:
        columns = [
            row[0] for row in con.execute("DESCRIBE raw.census_hitech_exports_history").fetchall()
        ]
        old = con.execute(
            "SELECT _landing_file, _content_sha256 FROM raw.census_hitech_exports_history"
        ).fetchall()
    assert columns[-2:] == ["_landing_file", "_content_sha256"]
    assert old == [("old.json", None)]
    with warehouse.writer(path) as con:  # opening it again changes nothing
        assert len(con.execute("DESCRIBE raw.census_hitech_exports_history").fetchall()) == 10


def test_a_damaged_landed_file_is_not_reused_for_an_identical_fetch(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)
    before = raw_rows(env)
    damaged = newest_landed(env.landing_dir, "imports", 2025).path
    damaged.write_bytes(damaged.read_bytes().replace(b'"2025-01"', b'"2025-02"', 1))
    env.warehouse.unlink()  # a new warehouse that has not seen the first vintage
    result = fetch_and_load(env, "imports", 2025, census)
    assert result.landing_file != damaged.relative_to(env.landing_dir).as_posix()
    assert raw_rows(env) == before  # the response, not the damaged file


def test_a_body_duckdb_cannot_read_is_a_warehouse_error_for_that_year(tmp_path):
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    body, table = _landed_body(tmp_path, header, [["2010", "MEXICO", "01", "BIO", "1", "2025-01"]])
    body.write_text("[not json")  # changed after validation
    with warehouse.writer(tmp_path / "warehouse.duckdb") as con:
        with pytest.raises(WarehouseError, match="DuckDB could not load .*body.json.*unchanged"):
            _load_body(con, table, body)
        assert con.execute("SELECT count(*) FROM raw.census_hitech_imports").fetchall() == [(0,)]


def test_a_body_many_times_the_real_size_loads_within_the_memory_cap(tmp_path):
    # Real flow-years are ~3 MB; DuckDB reads the body a row at a time, so 7x that fits easily
    # in the loader's memory cap (ingest.warehouse.DUCKDB_CONFIG).
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    rows = [
        [
            str(code),
            f"COUNTRY {code}",
            f"{h:02d}",
            f"GROUP [{h:02d}]",
            str(code * h),
            f"2025-{m:02d}",
        ]
        for code in range(1000, 3400)
        for h in range(12)
        for m in range(1, 13)
    ]
    body, table = _landed_body(tmp_path, header, rows)
    assert body.stat().st_size > 20 * 2**20
    with warehouse.writer(tmp_path / "warehouse.duckdb") as con:
        loaded = _load_body(con, table, body)
        total = con.execute(
            'SELECT count(*), sum("GEN_VAL_MO"::BIGINT) FROM raw.census_hitech_imports'
        ).fetchall()
    assert loaded is True  # a new vintage: the partition changed
    assert len(rows) == 345_600
    assert total == [(345_600, 12 * sum(code * h for code in range(1000, 3400) for h in range(12)))]


def test_both_flows_of_a_run_can_share_one_budget(env):
    # A refused key: the first request of the run is the only one, across both flows.
    with FakeCensusApi(fixture_dataset(), valid_keys={"the-real-key"}) as api:
        settings = at_api(env, api)
        budget = RetryBudget()
        outcomes = [
            outcome
            for flow in ("imports", "exports")
            for _, outcome in load_years(settings, flow, [2024, 2025, 2026], budget=budget)
        ]
        assert api.request_count == 1 and budget.requests == 1
    assert len(outcomes) == 6 and all(isinstance(o, CensusAuthError) for o in outcomes)
    assert str(outcomes[-1]).startswith(
        "exports 2026: not requested: the Census API refused the key for imports 2024"
    )


def test_a_refetch_of_the_same_data_changes_nothing_and_writes_nothing(env, client, fake_api):
    census, _ = client
    first = fetch_and_load(env, "imports", 2025, census)
    assert first.changed
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        before = con.execute("SELECT * FROM raw.census_hitech_imports ORDER BY ALL").fetchall()
    again = fetch_and_load(env, "imports", 2025, census)
    assert not again.changed and again.status == "loaded"
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        after = con.execute("SELECT * FROM raw.census_hitech_imports ORDER BY ALL").fetchall()
        vintages = con.execute(
            "SELECT count(DISTINCT _landing_file) FROM raw.census_hitech_imports_history"
        ).fetchone()[0]
    assert after == before  # not even the fetch time moved
    assert vintages == 1
    fake_api.dataset = revised_fixture_dataset()
    assert fetch_and_load(env, "imports", 2025, census).changed


def test_a_warehouse_with_a_raw_table_keeps_its_rows_as_the_raw_view(env, client):
    # Warehouses built before the raw view hold the raw rows as a table. Make one: 2024 and 2025
    # loaded, then the view turned back into a table, and 2025's vintage dropped from the history
    # (as in warehouses from before the history table).
    census, _ = client
    fetch_and_load(env, "imports", 2024, census)
    fetch_and_load(env, "imports", 2025, census)
    expected = raw_rows(env)
    with duckdb.connect(str(env.warehouse)) as con:
        con.execute(
            "CREATE TABLE raw.old AS SELECT * FROM raw.census_hitech_imports; "
            "DROP VIEW raw.census_hitech_imports; DROP TABLE raw.census_hitech_imports_current; "
            "ALTER TABLE raw.old RENAME TO census_hitech_imports; "
            "DELETE FROM raw.census_hitech_imports_history WHERE year = 2025"
        )
    with warehouse.writer(env.warehouse) as con:
        kinds = con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_name LIKE 'census_hitech_imports%' ORDER BY 1"
        ).fetchall()
        history_years = con.execute(
            "SELECT year, count(*) FROM raw.census_hitech_imports_history GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert kinds == [
        ("census_hitech_imports", "VIEW"),
        ("census_hitech_imports_current", "BASE TABLE"),
        ("census_hitech_imports_history", "BASE TABLE"),
    ]
    assert raw_rows(env) == expected and len(expected) == 1152 + 1296
    assert history_years == [(2024, 1152), (2025, 1296)]  # 2025 restored from the raw table
