"""The Dagster code location loads, and its asset graph is the one analysts see in the UI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.definitions import defs as code_location
from orchestration.raw_assets import yearly_partitions
from tests.conftest import SENTINEL_KEY, make_settings

defs = build_definitions(make_settings(Path("/nonexistent"), "http://127.0.0.1:9", start_year=2013))


def _keys() -> set[str]:
    return {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}


def test_every_asset_key():
    # dbt models are keyed <schema>/<model>; the raw assets match the dbt source `raw`.
    assert _keys() == {
        "raw/census_hitech_imports",
        "raw/census_hitech_exports",
        "raw/census_hitech_imports_history",
        "raw/census_hitech_exports_history",
        "raw/census_hs_imports",
        "raw/census_hs_exports",
        "raw/census_hs_imports_history",
        "raw/census_hs_exports_history",
        "raw/atp_codes",
        "staging/atp_categories",
        "staging/stg_census__hitech_history",
        "staging/stg_census__hitech_imports",
        "staging/stg_census__hs_imports",
        "staging/stg_census__hs_exports",
        "staging/stg_census__atp_codes",
        "intermediate/int_trade__product_year",
        "marts/fct_atp_product_year",
        "marts/fct_atp_product_coverage",
        "staging/stg_census__hitech_exports",
        "intermediate/int_trade__covered_months",
        "intermediate/int_trade__flows_monthly",
        "intermediate/int_trade__partner_measure_month",
        "intermediate/int_trade__partner_measure_year",
        "intermediate/int_trade__partner_year",
        "marts/fct_atp_partner_year",
        "marts/fct_us_atp_year",
        "marts/fct_atp_trade_monthly",
        "marts/fct_atp_partner_category_year",
        "marts/fct_atp_grouping_year",
        "marts/dim_partner",
        "marts/dim_atp_category",
        "marts/fct_atp_revisions",
        "marts/fct_atp_partner_contribution_year",
        "marts/fct_atp_partner_t12m",
        "marts/fct_atp_partner_share_shift_year",
        "published/atp_warehouse",
        "published/html_report",
        "published/release_digest",
    }


def test_dbt_sources_are_the_raw_assets():
    graph = defs.resolve_asset_graph()
    for flow in ("imports", "exports"):
        staging = graph.get(dg.AssetKey(["staging", f"stg_census__hitech_{flow}"]))
        assert staging.parent_keys == {dg.AssetKey(["raw", f"census_hitech_{flow}"])}


def test_dbt_tests_are_asset_checks():
    graph = defs.resolve_asset_graph()
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert (
        "staging/stg_census__hitech_imports",
        "hitech_total_reconciles_stg_census__hitech_imports_",
    ) in checks
    assert (
        "staging/stg_census__hitech_exports",
        "us_total_matches_countries_stg_census__hitech_exports_0_5",
    ) in checks
    assert {key for key, _ in checks} >= {
        "marts/fct_atp_partner_year",
        "marts/fct_us_atp_year",
        "marts/fct_atp_partner_category_year",
    }


def test_every_duckdb_writer_is_in_one_pool():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        # The HTML report and the digest only read the published copy; everything else writes
        # the warehouse.
        readers = {
            dg.AssetKey(["published", "html_report"]),
            dg.AssetKey(["published", "release_digest"]),
        }
        if node.is_materializable and key not in readers:
            assert node.pools == {"duckdb"}, key


def test_partitions_run_through_the_unfinished_current_year():
    keys = yearly_partitions(2013).get_partition_keys(current_time=datetime(2026, 11, 27))
    assert keys[0] == "2013" and keys[-1] == "2026" and len(keys) == 14


def test_the_dbt_resource_overrides_still_override_dagster_dbt():
    # AtpDbtCliResource replaces two private dagster-dbt methods to save start-up time; if an
    # upgrade renames them, the overrides would silently stop applying.
    from importlib.metadata import version

    from dagster_dbt import DbtCliResource

    from orchestration.dbt_project import AtpDbtCliResource, dbt_resource

    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), name
        assert name in vars(AtpDbtCliResource), name
    resource = dbt_resource()
    assert isinstance(resource, AtpDbtCliResource)
    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_the_code_location_loads_from_the_environment(monkeypatch, tmp_path):
    # What `dagster dev` and the daemon load: Settings.from_env(), then the same definitions.
    monkeypatch.setenv("ATP_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("ATP_START_YEAR", "2020")
    monkeypatch.setenv("CENSUS_API_KEY", SENTINEL_KEY)
    loaded = code_location()
    settings = loaded.resources["settings"]
    assert settings.warehouse == tmp_path / "w.duckdb" and settings.start_year == 2020
    # One plain object, with no configuration schema: the key is in no run config, and out of
    # its repr.
    assert settings.api_key == SENTINEL_KEY and SENTINEL_KEY not in repr(settings)


def test_the_raw_step_loads_both_flows_with_optional_outputs_and_the_release_check():
    # Refresh by change: one step for both flows, whose outputs are optional, so that a run
    # that finds nothing new yields none and Dagster skips everything downstream.
    raw = defs.resolve_assets_def(dg.AssetKey(["raw", "census_hitech_imports"]))
    assert raw.node_def.name == "raw_census"
    assert {key.to_user_string() for key in raw.keys} == {
        "raw/census_hitech_imports",
        "raw/census_hitech_exports",
        "raw/census_hitech_imports_history",
        "raw/census_hitech_exports_history",
        "raw/census_hs_imports",  # product detail, in the same step (one writer, one budget)
        "raw/census_hs_exports",
        "raw/census_hs_imports_history",
        "raw/census_hs_exports_history",
        "raw/atp_codes",
    }
    outputs = {raw.get_output_name_for_asset_key(key) for key in raw.keys}
    assert not any(o.is_required for o in raw.node_def.output_defs if o.name in outputs)
    assert {(c.asset_key.to_user_string(), c.name) for c in raw.check_keys} == {
        ("raw/census_hitech_imports", "census_release_is_current"),
        ("raw/census_hitech_exports", "census_release_is_current"),
    }
