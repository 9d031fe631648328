"""What one real run (the fake API, `atp run`'s path) leaves for the Dagster UI: each mart's own
materialization carries its row count, newest month and (partner-year) the top-10 preview; the
dbt checks carry the severity of their test and name the table of their stored failing rows;
nothing shows as "(unserializable)"."""

from __future__ import annotations

import dagster as dg
import pytest

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.dbt_assets import FAILING_ROWS_TABLE
from orchestration.runner import run_pipeline
from tests.conftest import SENTINEL_KEY, make_settings

MARTS = {
    "dim_atp_category",
    "dim_partner",
    "fct_atp_grouping_year",
    "fct_atp_partner_category_year",
    "fct_atp_partner_contribution_year",
    "fct_atp_partner_share_shift_year",
    "fct_atp_partner_t12m",
    "fct_atp_partner_year",
    "fct_atp_revisions",
    "fct_atp_trade_monthly",
    "fct_us_atp_year",
}
WARN_LEVEL = {
    "unknown_partner_codes_dim_partner",
    "unknown_hitech_codes_stg_census__hitech_imports",
    "unknown_hitech_codes_stg_census__hitech_exports",
    "unknown_hitech_codes_stg_census__hitech_history",
    "hitech_total_gaps_stg_census__hitech_imports",
    "hitech_total_gaps_stg_census__hitech_exports",
    "us_total_gaps_stg_census__hitech_imports",
    "us_total_gaps_stg_census__hitech_exports",
    "product_coverage_under_99_pct",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    with FakeCensusApi(fixture_dataset()) as api, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CENSUS_API_KEY", SENTINEL_KEY)
        instance = dg.DagsterInstance.ephemeral()
        lines: list[str] = []
        code = run_pipeline(
            make_settings(tmp, api.base_url), "api", instance=instance, out=lines.append
        )
        assert code == 0, "\n".join(lines)
        (record,) = instance.get_runs(limit=1)
        yield instance, [e for e in instance.all_logs(record.run_id) if e.dagster_event]


def _materialization(instance, table: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(["marts", table]))
    assert event is not None, table
    return event.asset_materialization.metadata


def test_each_mart_materialization_shows_its_row_count_and_newest_month(run):
    instance, _ = run
    for table in MARTS:
        metadata = _materialization(instance, table)
        assert metadata["dagster/row_count"].value > 0, table
        assert metadata["unique_id"].value == f"model.atp_warehouse.{table}"  # dagster-dbt's own
        if table.startswith("fct_"):
            assert metadata["newest_month"].value == "2026-09", table
    partner_year = _materialization(instance, "fct_atp_partner_year")
    assert partner_year["dagster/row_count"].value == 5 + 6 + 6
    preview = partner_year["top_10_atp_import_sources"]
    assert isinstance(preview, dg.MarkdownMetadataValue)
    assert "| 1 | Mexico (2010) | 120.00 | +24.00 | +25.0 | 30.6 | -67.20 |" in preview.value
    assert _materialization(instance, "dim_atp_category")["dagster/row_count"].value == 10


def test_the_checks_carry_severity_and_name_the_stored_rows(run):
    _, events = run
    evaluations = [
        e.dagster_event.event_specific_data
        for e in events
        if e.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    by_name = {c.check_name: c for c in evaluations if c.asset_key.path[0] != "raw"}
    assert len(by_name) == 45 and all(c.passed for c in by_name.values())
    for name, check in by_name.items():
        expected = dg.AssetCheckSeverity.WARN if name in WARN_LEVEL else dg.AssetCheckSeverity.ERROR
        assert check.severity == expected, name
    stored = by_name["unknown_partner_codes_dim_partner"].metadata[FAILING_ROWS_TABLE]
    assert stored.value == "dbt_test__audit.unknown_partner_codes_dim_partner"
    assert "hitech_total_reconciles_stg_census__hitech_imports_" in {
        name for name, check in by_name.items() if FAILING_ROWS_TABLE in check.metadata
    }
    # A mart's checks follow its materialization (held together until dbt has exited): each
    # evaluates this run's materialization, not the previous one.
    run_id = events[0].run_id
    for name, check in by_name.items():
        if check.asset_key.path[0] == "marts":
            assert check.target_materialization_data is not None, name
            assert check.target_materialization_data.run_id == run_id, name


def test_no_metadata_of_the_run_is_unserializable(run):
    _, events = run
    for event in events:
        data = event.dagster_event.event_specific_data
        for holder in (data, getattr(data, "materialization", None)):
            for name, value in (getattr(holder, "metadata", None) or {}).items():
                assert "(unserializable)" not in str(getattr(value, "value", value)), name
