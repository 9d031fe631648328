"""A rebuild from the landing zone never publishes a year short: a manifest whose landed body is
gone, or a damaged manifest, fails that partition with the file to restore (issue 10, A6)."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

from fake_census import revised_fixture_dataset
from ingest.errors import LandingError
from ingest.landing import MANIFEST_SUFFIX, landed_files, newest_landed
from ingest.partitions import fetch_and_load, load_years, reload_from_landing
from orchestration.runner import run_pipeline

CHINA_2025_IMPORTS = (
    "SELECT sum(GEN_VAL_MO::BIGINT) FROM raw.census_hitech_imports "
    "WHERE CTY_CODE = '5700' AND HITECH = '04'"
)


def scalar(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def manifest_of(landed) -> str:
    return landed.path.name.removesuffix(".json") + MANIFEST_SUFFIX


def test_a_deleted_body_fails_the_rebuild_naming_the_manifest_and_the_file(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)
    landed = newest_landed(env.landing_dir, "imports", 2025)
    landed.path.unlink()
    env.warehouse.unlink()  # a rebuild into a new warehouse: nothing to fall back on
    with pytest.raises(LandingError) as raised:
        reload_from_landing(env, "imports", 2025)
    message = str(raised.value)
    folder = env.landing_dir / "imports" / "2025"
    assert message == (
        f"manifest {folder / manifest_of(landed)} names {landed.path.name}, which is missing: "
        f"restore {landed.path} from a backup, or remove the manifest and fetch again with "
        "make run."
    )
    assert "\n" not in message
    # Before: "nothing landed for this partition; kept stored rows", and the run went on.


def test_a_deleted_newest_body_is_not_replaced_by_an_older_vintage(env, client, fake_api):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)  # China ATP 9.0 bn a month, 04 = 50%
    fake_api.dataset = revised_fixture_dataset()
    fetch_and_load(env, "imports", 2025, census)  # revised: 9.3 bn a month
    assert scalar(env.warehouse, CHINA_2025_IMPORTS) == 12 * 4_650_000_000
    older, newest = landed_files(env.landing_dir, "imports", 2025)
    assert older.path != newest.path
    newest.path.unlink()
    with pytest.raises(LandingError, match=f"names {newest.path.name}, which is missing"):
        reload_from_landing(env, "imports", 2025)
    # Before: the older vintage (4.5 bn a month) silently became the year's rows.
    assert scalar(env.warehouse, CHINA_2025_IMPORTS) == 12 * 4_650_000_000


def test_a_deleted_older_body_fails_too_the_history_would_be_short(env, client, fake_api):
    census, _ = client
    fetch_and_load(env, "imports", 2025, census)
    fake_api.dataset = revised_fixture_dataset()
    fetch_and_load(env, "imports", 2025, census)
    older, _newest = landed_files(env.landing_dir, "imports", 2025)
    older.path.unlink()
    env.warehouse.unlink()
    with pytest.raises(LandingError, match=f"names {older.path.name}, which is missing"):
        reload_from_landing(env, "imports", 2025)


def test_a_manifest_without_a_file_field_is_a_landing_error_not_a_key_error(env, client):
    census, _ = client
    fetch_and_load(env, "exports", 2024, census)
    landed = newest_landed(env.landing_dir, "exports", 2024)
    manifest_path = landed.path.with_name(manifest_of(landed))
    manifest = json.loads(manifest_path.read_text())
    del manifest["file"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(LandingError) as raised:
        reload_from_landing(env, "exports", 2024)
    assert str(raised.value) == (
        f'manifest {manifest_path} is damaged (no "file" field): restore it from a backup, '
        "or remove it and fetch again with make run."
    )
    # The fetch path reads manifests too: the same error, not a KeyError.
    with pytest.raises(LandingError, match='no "file" field'):
        fetch_and_load(env, "exports", 2024, census)


@pytest.mark.parametrize(
    ("file", "reason"),
    [("../x.json", '"file" is not a file name beside it'), (7, '"file" is not a file name')],
)
def test_a_manifest_naming_no_file_beside_it_is_a_landing_error(env, client, file, reason):
    census, _ = client
    fetch_and_load(env, "exports", 2024, census)
    landed = newest_landed(env.landing_dir, "exports", 2024)
    manifest_path = landed.path.with_name(manifest_of(landed))
    manifest_path.write_text(json.dumps({**landed.manifest, "file": file}))
    with pytest.raises(LandingError, match=reason):
        reload_from_landing(env, "exports", 2024)


def test_the_fetch_path_still_skips_a_manifest_whose_body_is_gone(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2024, census)
    lost = newest_landed(env.landing_dir, "imports", 2024)
    lost.path.unlink()
    result = fetch_and_load(env, "imports", 2024, census)  # lands the body again, loads it
    assert result.status == "loaded" and result.rows == 12 * 8 * 12
    assert [f.path for f in landed_files(env.landing_dir, "imports", 2024)] != [lost.path]
    assert (env.landing_dir / result.landing_file).is_file()
    # The rebuild still refuses: the first manifest names a file that is gone.
    with pytest.raises(LandingError, match=f"names {lost.path.name}, which is missing"):
        reload_from_landing(env, "imports", 2024)


def test_a_rebuild_of_several_years_fails_only_the_year_with_the_missing_body(env, client):
    census, _ = client
    for year in (2024, 2025):
        fetch_and_load(env, "exports", year, census)
    newest_landed(env.landing_dir, "exports", 2025).path.unlink()
    env.warehouse.unlink()
    outcomes = dict(load_years(env, "exports", [2024, 2025], source="landing"))
    assert outcomes[2024].status == "loaded" and outcomes[2024].rows == 12 * 8 * 12
    assert isinstance(outcomes[2025], LandingError)
    assert "which is missing" in str(outcomes[2025])


def test_make_rebuild_exits_non_zero_naming_the_missing_file(env, client):
    census, _ = client
    for flow in ("imports", "exports"):
        for year in (2024, 2025):
            fetch_and_load(env, flow, year, census)
    lost = newest_landed(env.landing_dir, "exports", 2025).path
    lost.unlink()
    env.warehouse.unlink()
    out: list[str] = []
    code = run_pipeline(
        env, "landing", years=[2024, 2025], instance=dg.DagsterInstance.ephemeral(), out=out.append
    )
    text = "\n".join(out)
    assert code == 1, text
    assert f"exports 2025: manifest {lost.parent}" in text
    assert f"names {lost.name}, which is missing" in text
    assert out[-1].startswith("dbt build skipped")
    assert not env.published.exists()  # nothing published a year short
