"""Refresh by change: a run that finds only the data already stored builds and publishes
nothing, and says so; any change (a revision, a new month) rebuilds and republishes."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from fake_census import FixtureDataset, revised_fixture_dataset
from ingest.freshness import read_freshness
from orchestration.raw_assets import raw_asset_key
from orchestration.runner import run_pipeline

YEARS = [2025, 2026]


class WithOctober(FixtureDataset):
    """The fixture one release later: October 2026 is out."""

    def rows(self, flow, year):
        rows = super().rows(flow, year)
        if rows and year == 2026:
            rows += [{**row, "month": 10} for row in rows if row["month"] == 9]
        return rows


def _stamp(path):
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


@pytest.fixture
def built(env, fake_api):
    """A full run over 2025-2026, then what a refresh needs to compare against."""
    instance = dg.DagsterInstance.ephemeral()
    lines: list[str] = []
    code = run_pipeline(env, "api", years=YEARS, instance=instance, out=lines.append)
    assert code == 0, "\n".join(lines)
    return instance


def _refresh(env, instance):
    out: list[str] = []
    code = run_pipeline(
        env, "api", years=YEARS, instance=instance, out=out.append, only_if_changed=True
    )
    return code, out


def test_a_refresh_that_finds_nothing_new_builds_and_publishes_nothing(env, fake_api, built):
    before = _stamp(env.published)
    report_before = _stamp(env.report_dir / "index.html")
    first = read_freshness(env.published)
    code, out = _refresh(env, built)
    assert code == 0, out
    assert (
        out[-1]
        == f"Nothing new since {first.last_changed:%Y-%m-%d %H:%M} UTC; published copy unchanged."
    )
    assert not any(line.startswith(("dbt build", "Published")) for line in out)
    assert _stamp(env.published) == before  # same file, not rewritten
    assert _stamp(env.report_dir / "index.html") == report_before
    after = read_freshness(env.published)
    assert after.last_checked > first.last_checked
    assert after.last_changed == first.last_changed
    assert after.newest_month == "2026-09"
    # In Dagster: a success whose raw years are materialized as unchanged; nothing downstream.
    run = built.get_runs(limit=1)[0]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["atp/outcome"] == "unchanged"
    materialized = [
        e.dagster_event.event_specific_data.materialization
        for e in built.all_logs(run.run_id)
        if e.dagster_event and e.dagster_event.is_step_materialization
    ]
    assert {m.asset_key.path[0] for m in materialized} == {"raw"}
    imports = [m for m in materialized if m.asset_key == raw_asset_key("imports")]
    assert {m.partition for m in imports} == {"2025", "2026"}
    assert all(m.metadata["changed"].value is False for m in imports)


def test_a_revision_republishes_and_shows_in_the_revisions_mart(env, fake_api, built):
    before = _stamp(env.published)
    changed_before = read_freshness(env.published).last_changed
    fake_api.dataset = revised_fixture_dataset()
    code, out = _refresh(env, built)
    assert code == 0, out
    assert out[-1] == "Done." and any(line.startswith("Published") for line in out)
    assert _stamp(env.published)[0] != before[0]
    with duckdb.connect(str(env.published), read_only=True) as con:
        revised = con.execute(
            "SELECT count(*) FROM marts.fct_atp_revisions WHERE revision_status = 'revised'"
        ).fetchone()[0]
    assert revised > 0
    assert read_freshness(env.published).last_changed > changed_before


def test_a_new_month_republishes(env, fake_api, built):
    changed_before = read_freshness(env.published).last_changed
    fake_api.dataset = WithOctober()
    code, out = _refresh(env, built)
    assert code == 0, out
    assert any("Published" in line and "data through 2026-10" in line for line in out), out
    fresh = read_freshness(env.published)
    assert fresh.newest_month == "2026-10" and fresh.last_changed > changed_before


def test_a_failed_year_beside_an_unchanged_one_publishes_nothing(env, fake_api, built):
    before = _stamp(env.published)
    checked_before = read_freshness(env.published).last_checked
    fake_api.set_fault_for("imports", 2026, "400")
    code, out = _refresh(env, built)
    assert code == 1
    text = "\n".join(out)
    assert "FAILED raw load: imports: 1 of 2 year(s) loaded: 2025; failed:" in text
    assert "imports 2026: the Census API rejected the request with HTTP 400" in text
    assert _stamp(env.published) == before
    assert read_freshness(env.published).last_checked == checked_before  # not a good check


def test_a_year_not_released_yet_is_observed_not_materialized(env, fake_api):
    # The fixture has no 2027: the API answers 204. The year must not show as materialized
    # with 0 rows in the UI's partition bar; an observation says it is not released yet.
    instance = dg.DagsterInstance.ephemeral()
    out: list[str] = []
    assert run_pipeline(env, "api", years=[2027], instance=instance, out=out.append) == 0
    assert "  imports 2027: not released yet (HTTP 204); kept 0 stored rows" in out
    assert out[-1].endswith("published copy unchanged.")
    imports = raw_asset_key("imports")
    assert instance.get_materialized_partitions(imports) == set()
    (observed,) = instance.fetch_observations(imports, limit=5).records
    assert observed.asset_observation.partition == "2027"
    assert observed.asset_observation.metadata["status"].value == "not_released"


def _staged_history(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT * FROM staging.stg_census__hitech_history ORDER BY ALL"
        ).fetchall()


def test_a_refresh_stages_only_new_vintages_and_a_rebuild_restages_them_all(env, fake_api, built):
    # Staged from the full run: one vintage per flow and year.
    first = _staged_history(env.warehouse)
    fake_api.dataset = revised_fixture_dataset()
    code, out = _refresh(env, built)
    assert code == 0, out
    refreshed = _staged_history(env.warehouse)
    # The revision's vintages (2025, both flows) were added; the rows staged before are kept.
    added = {row[-1] for row in refreshed} - {row[-1] for row in first}
    assert sorted(name.split("/")[:2] for name in added) == [
        ["exports", "2025"],
        ["imports", "2025"],
    ]
    assert set(first) < set(refreshed)
    # A row lost from the staged history stays lost in an incremental run ...
    with duckdb.connect(str(env.warehouse)) as con:
        con.execute(
            "DELETE FROM staging.stg_census__hitech_history "
            "WHERE partner_code = '5700' AND month_start = DATE '2025-03-01'"
        )
    # ... and `atp rebuild` (dbt --full-refresh) stages every vintage again, as they were.
    out = []
    code = run_pipeline(env, "landing", years=YEARS, instance=built, out=out.append)
    assert code == 0, out
    assert _staged_history(env.warehouse) == refreshed


class ThroughJune(FixtureDataset):
    """The API answers 2026 with months through June only (a slipped release, a partial answer)."""

    def rows(self, flow, year):
        rows = super().rows(flow, year)
        return [row for row in rows if row["month"] <= 6] if rows and year == 2026 else rows


def test_a_shorter_answer_never_drops_months_held(env, fake_api, built):
    before = _stamp(env.published)
    fake_api.dataset = ThroughJune()
    code, out = _refresh(env, built)
    assert code == 0, out
    warning = (
        "imports 2026: the API's answer lacks 3 months, 2026-07..2026-09, which the warehouse "
        "holds: kept the stored year (through 2026-09)."
    )
    assert any(line.strip().startswith(warning) for line in out), out
    assert "  imports 2026: kept as stored, 972 rows, 9 month(s) 2026-01..2026-09" in out
    assert out[-1].startswith("Nothing new since")
    assert _stamp(env.published) == before
    assert read_freshness(env.published).newest_month == "2026-09"
    # Taken only when asked for: then the year holds what the API says.
    out = []
    code = run_pipeline(
        env, "api", years=YEARS, instance=built, out=out.append, accept_fewer_months=True
    )
    assert code == 0, out
    assert any("Published" in line and "data through 2026-06" in line for line in out), out
