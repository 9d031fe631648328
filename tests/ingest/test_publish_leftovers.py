"""A publication killed half-way leaves `.atp.duckdb.*.tmp` copies (and their DuckDB `.wal`)
beside the published copy: the next publication removes them and says so, and leaves alone
what another process may still be writing."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import duckdb

from ingest.publish import publish

HOLD_OPEN = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE t (a INT)');"
    " print('ready', flush=True); time.sleep(60)"
)


def _working_warehouse(path):
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_example AS SELECT 42 AS answer")


def _age(path, seconds=3600):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_publication_removes_the_copies_a_killed_one_left(tmp_path, caplog):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "atp.duckdb"
    _working_warehouse(warehouse)
    killed = [tmp_path / ".atp.duckdb.k1ll3d_0.tmp", tmp_path / ".atp.duckdb.k1ll3d_0.tmp.wal"]
    orphan_wal = tmp_path / ".atp.duckdb.0rphan00.tmp.wal"
    for path in [*killed, orphan_wal]:
        path.write_bytes(b"\0" * 4096)
        _age(path)
    fresh = tmp_path / ".atp.duckdb.fresh000.tmp"  # written since this process started
    fresh.write_bytes(b"x")
    others = [tmp_path / ".report.duckdb.abcdefgh.tmp", tmp_path / "atp.duckdb.abcdefgh.tmp"]
    for path in others:
        path.write_bytes(b"x")
        _age(path)
    in_use = tmp_path / ".atp.duckdb.inuse000.tmp"  # another process is writing it
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(in_use)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        _age(in_use)
        with caplog.at_level(logging.INFO, logger="ingest.publish"):
            publication = publish(warehouse, published, min_free_mb=0, source_api="test")
    finally:
        holder.kill()
        holder.wait()
    assert publication.tables == ["fct_example"]
    left = sorted(path.name for path in tmp_path.iterdir())
    assert [name for name in left if name.startswith(".atp.duckdb.")] == [
        ".atp.duckdb.fresh000.tmp",
        ".atp.duckdb.inuse000.tmp",
        ".atp.duckdb.inuse000.tmp.wal",
    ]
    assert all(path.exists() for path in others)
    assert [r.getMessage() for r in caplog.records if r.name == "ingest.publish"] == [
        f"removed 3 temporary file(s) left beside {published} by a publication that was killed: "
        ".atp.duckdb.0rphan00.tmp.wal, .atp.duckdb.k1ll3d_0.tmp, .atp.duckdb.k1ll3d_0.tmp.wal"
    ]
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT answer FROM marts.fct_example").fetchall() == [(42,)]


def test_nothing_left_over_means_no_line(tmp_path, caplog):
    warehouse, published = tmp_path / "warehouse.duckdb", tmp_path / "atp.duckdb"
    _working_warehouse(warehouse)
    with caplog.at_level(logging.INFO, logger="ingest.publish"):
        publish(warehouse, published, min_free_mb=0, source_api="test")
        publish(warehouse, published, min_free_mb=0, source_api="test")  # over the first copy
    assert [r for r in caplog.records if r.name == "ingest.publish"] == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["atp.duckdb", "warehouse.duckdb"]
