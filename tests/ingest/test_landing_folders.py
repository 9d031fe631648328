"""Product detail lands a folder per fetch (one file per answer, as the API sent it), with the
same guarantees as a single landed response: checksums in the manifest, nothing stored twice,
a damaged answer refused, a rebuild from the landing zone alone."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import duckdb
import orjson
import pytest
import requests

from ingest.census_format import parse_table
from ingest.client import Fetch
from ingest.datasets import HS
from ingest.errors import LandingError
from ingest.landing import INCOMING_PREFIX, land, landed_files, newest_landed
from ingest.partitions import fetch_and_load, reload_from_landing
from tests.conftest import SENTINEL_KEY


def _raw(settings, year: int) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            f"SELECT * EXCLUDE (_fetched_at, _landing_file) FROM {HS.raw_table('imports')} "
            "WHERE year = ? ORDER BY ALL",
            [year],
        ).fetchall()


def _partition(settings, year: int):
    return HS.landing_root(settings.landing_dir) / "imports" / str(year)


def test_a_product_fetch_lands_a_folder_of_answers_named_in_its_manifest(env, client, fake_api):
    census, _ = client
    fake_api.max_answer_rows = 500  # several answers a year
    result = fetch_and_load(env, "imports", 2025, census, HS)
    landed = newest_landed(HS.landing_root(env.landing_dir), "imports", 2025)
    assert landed.path.is_dir() and landed.path.parent == _partition(env, 2025)
    parts = landed.manifest["parts"]
    assert len(parts) >= 4 and sorted(p.name for p in landed.path.iterdir()) == sorted(
        part["file"] for part in parts
    )
    for part in parts:
        body = (landed.path / part["file"]).read_bytes()
        assert part["sha256"] == hashlib.sha256(body).hexdigest() and part["bytes"] == len(body)
        assert SENTINEL_KEY not in part["request"]
    # Verbatim: what the API sends for the request its manifest names.
    again = requests.get(f"{parts[0]['request']}&key={SENTINEL_KEY}", timeout=10)
    assert (landed.path / parts[0]["file"]).read_bytes() == again.content
    assert (
        landed.manifest["rows"]
        == result.rows
        == sum(len(json.loads((landed.path / p["file"]).read_bytes())) - 1 for p in parts)
    )
    assert not list(_partition(env, 2025).glob(f"{INCOMING_PREFIX}*"))


def test_the_same_answers_again_reuse_the_folder_and_leave_nothing_incoming(env, client):
    census, _ = client
    first = fetch_and_load(env, "imports", 2025, census, HS)
    again = fetch_and_load(env, "imports", 2025, census, HS)
    assert (again.changed, again.landing_file) == (False, first.landing_file)
    folder = _partition(env, 2025)
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 1  # no .incoming- left either
    manifests = landed_files(HS.landing_root(env.landing_dir), "imports", 2025)
    assert len(manifests) == 2 and {m.path for m in manifests} == {manifests[0].path}
    assert manifests[0].manifest["parts"] == manifests[1].manifest["parts"]


def test_a_rebuild_reloads_the_folder_and_refuses_a_damaged_answer(env, client, fake_api):
    census, _ = client
    fake_api.max_answer_rows = 500
    fetch_and_load(env, "imports", 2025, census, HS)
    loaded = _raw(env, 2025)
    env.warehouse.unlink()
    fake_api.stop()
    assert reload_from_landing(env, "imports", 2025, HS).rows == len(loaded)
    assert _raw(env, 2025) == loaded

    landed = newest_landed(HS.landing_root(env.landing_dir), "imports", 2025)
    damaged = landed.path / landed.manifest["parts"][1]["file"]
    damaged.write_bytes(damaged.read_bytes().replace(b'"2010"', b'"2011"', 1))
    with pytest.raises(LandingError, match=f"landed file {damaged} does not match the sha256"):
        reload_from_landing(env, "imports", 2025, HS)
    assert _raw(env, 2025) == loaded  # nothing stored was touched


def test_a_single_file_product_vintage_of_an_older_version_still_reloads(env, client):
    """Before answers were landed one by one, a product fetch landed one combined table."""
    census, _ = client
    fetch_and_load(env, "imports", 2025, census, HS)
    folder = newest_landed(HS.landing_root(env.landing_dir), "imports", 2025)
    rows = [row for answer in folder.answers for row in orjson.loads(answer.path.read_bytes())[1:]]
    header = orjson.loads(folder.answers[0].path.read_bytes())[0]
    body = orjson.dumps([header, *rows[:-5]])  # another content: a new vintage
    older = Fetch(
        HS, "imports", 2025, HS.endpoint("imports"), folder.manifest["request"],
        folder.manifest["params"], datetime.now(UTC), 1, body,
        parse_table(body, "imports", 2025, HS),
    )  # fmt: skip
    single = land(env.landing_dir, older)
    assert single.path.is_file() and "parts" not in single.manifest
    assert reload_from_landing(env, "imports", 2025, HS).rows == len(rows) - 5
    assert len(_raw(env, 2025)) == len(rows) - 5
