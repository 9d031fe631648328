"""The Dagster UI as a data engineer reads it, from the definitions alone (no run): lineage of the
published copy, keys and groups, owners, freshness policies, check descriptions and metadata."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DagsterDbtTranslator

from orchestration.asset_policies import TEAM_OWNER
from orchestration.dbt_assets import (
    DBT_SEVERITY,
    FAILING_ROWS_TABLE,
    AtpDbtTranslator,
    check_result,
    with_mart_metadata,
)
from orchestration.definitions import build_definitions
from tests.conftest import ROOT, make_settings

defs = build_definitions(make_settings(Path("/nonexistent"), "http://127.0.0.1:9", start_year=2013))
graph = defs.resolve_asset_graph()
PUBLISHED = dg.AssetKey(["published", "atp_warehouse"])
DBT_KEYS = set(defs.resolve_assets_def(dg.AssetKey(["marts", "fct_atp_partner_year"])).keys)
MARTS = {key for key in DBT_KEYS if key.path[0] == "marts"}
# The dbt yml files another change owns for now: their tests get a description there.
PENDING_DESCRIPTIONS = {"models/marts/dim_partner.yml", "models/marts/fct_atp_revisions.yml"}
# Metadata the Dagster UI never shows (its HIDDEN_METADATA_ENTRY_LABELS, dagster-webserver 1.13):
# dagster-dbt's own objects, which serve it at run time.
HIDDEN_BY_THE_UI = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


def test_the_published_copy_depends_on_the_marts_only():
    parents = graph.get(PUBLISHED).parent_keys
    assert parents == MARTS and len(MARTS) == 13
    # Still after the whole dbt build: the marts are outputs of the one dbt step.
    dbt_step = defs.resolve_assets_def(dg.AssetKey(["marts", "fct_atp_partner_year"]))
    assert parents <= set(dbt_step.keys)
    assert {"staging", "intermediate"}.isdisjoint(key.path[0] for key in parents)


def test_every_dbt_asset_is_grouped_by_its_key_prefix_the_seed_too():
    seed = graph.get(dg.AssetKey(["staging", "atp_categories"]))
    assert seed.group_name == "staging"
    for key in DBT_KEYS:
        assert graph.get(key).group_name == key.path[0], key
    assert {graph.get(key).group_name for key in DBT_KEYS} == {"staging", "intermediate", "marts"}


def test_every_asset_has_the_team_as_owner():
    for key in graph.get_all_asset_keys():
        assert TEAM_OWNER in graph.get(key).owners, key


def test_a_dbt_model_can_name_its_own_owners():
    translator = AtpDbtTranslator()
    assert translator.get_owners({"meta": {}}) == [TEAM_OWNER]
    own = {"meta": {"dagster": {"owners": ["team:trade-analysts"]}}}
    assert translator.get_owners(own) == ["team:trade-analysts"]


def test_freshness_policies_follow_what_a_materialization_means():
    def window(key) -> tuple[timedelta, timedelta | None]:
        policy = graph.get(key).freshness_policy
        assert isinstance(policy, dg.FreshnessPolicy), key
        warn = policy.warn_window.to_timedelta() if policy.warn_window else None
        return policy.fail_window.to_timedelta(), warn

    # Marts and the copy change with Census's monthly releases (a quiet night builds nothing).
    for key in {*MARTS, PUBLISHED}:
        assert window(key) == (timedelta(days=45), timedelta(days=35)), key
    # The raw tables are materialized by every nightly refresh.
    for key in graph.get_all_asset_keys():
        if key.path[0] == "raw":
            assert window(key) == (timedelta(days=2), timedelta(hours=30)), key
    assert (
        graph.get(dg.AssetKey(["staging", "stg_census__hitech_imports"])).freshness_policy is None
    )


_SERIALIZABLE = (
    str,
    int,
    float,
    bool,
    type(None),
    dict,
    list,
    datetime,
    os.PathLike,
    dg.MetadataValue,
    dg.TableSchema,
    dg.TableColumnLineage,
    dg.AssetKey,
)


def test_no_definition_metadata_shows_as_unserializable():
    # Dagster shows any other object as "[ClassName] (unserializable)" (the DbtProject was one).
    for key in graph.get_all_asset_keys():
        for name, value in graph.get(key).metadata.items():
            if name not in HIDDEN_BY_THE_UI:
                assert isinstance(value, _SERIALIZABLE), (key, name, type(value))
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        for name, value in spec.metadata.items():
            assert isinstance(value, _SERIALIZABLE), (check_key, name, type(value))


def _manifest() -> dict:
    return json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())


def test_every_dbt_data_test_has_a_description_in_its_yml():
    tests = [n for n in _manifest()["nodes"].values() if n["resource_type"] == "test"]
    assert len(tests) >= 37
    undocumented = {
        (test["original_file_path"], test["name"])
        for test in tests
        if len((test.get("description") or "").strip()) < 30
    }
    assert {path for path, _ in undocumented} <= PENDING_DESCRIPTIONS, sorted(undocumented)


def test_every_check_says_what_it_tests_and_where_its_failing_rows_are():
    manifest = _manifest()
    by_name = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    dbt_checks = [k for k in graph.asset_check_keys if k.name in by_name]
    assert len(dbt_checks) == len(by_name)
    for check_key in dbt_checks:
        spec, test = graph.get_check_spec(check_key), by_name[check_key.name]
        assert len(spec.description or "") >= 30, check_key
        if test["description"].strip():
            assert spec.description == test["description"].strip()
        severity = test["config"]["severity"].lower()
        assert spec.metadata[DBT_SEVERITY] == severity and spec.blocking == (severity == "error")
        if test["config"].get("store_failures"):
            assert spec.metadata[FAILING_ROWS_TABLE] == f"dbt_test__audit.{test['alias']}"
        else:
            assert FAILING_ROWS_TABLE not in spec.metadata
    gaps = graph.get_check_spec(
        dg.AssetCheckKey(
            dg.AssetKey(["staging", "stg_census__hitech_imports"]),
            "hitech_total_gaps_stg_census__hitech_imports",
        )
    )
    assert gaps.metadata[FAILING_ROWS_TABLE] == (
        "dbt_test__audit.hitech_total_gaps_stg_census__hitech_imports"
    )
    assert gaps.description.startswith("Warns (never fails)")


def test_the_check_spec_override_still_overrides_dagster_dbt():
    # get_asset_check_spec is not a public dagster-dbt method: if an upgrade renames it, the
    # descriptions and the failing rows' table would silently vanish from the checks.
    assert "get_asset_check_spec" in vars(DagsterDbtTranslator)
    assert "get_asset_check_spec" in vars(AtpDbtTranslator)


def _spec(severity: str, table: str | None = "dbt_test__audit.t") -> dg.AssetCheckSpec:
    metadata = {DBT_SEVERITY: severity, **({FAILING_ROWS_TABLE: table} if table else {})}
    return dg.AssetCheckSpec("t", asset=["staging", "s"], metadata=metadata)


def _result(status: str, passed: bool, severity=dg.AssetCheckSeverity.ERROR):
    return dg.AssetCheckResult(
        asset_key=["staging", "s"],
        check_name="t",
        passed=passed,
        severity=severity,
        metadata={"status": status, "dagster_dbt/failed_row_count": 3},
    )


def test_a_warn_level_test_reports_a_warning_naming_its_stored_rows():
    warned = check_result(_result("warn", False, dg.AssetCheckSeverity.WARN), _spec("warn"))
    assert (warned.passed, warned.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert warned.metadata[FAILING_ROWS_TABLE].value == "dbt_test__audit.t"
    assert warned.metadata["dagster_dbt/failed_row_count"].value == 3
    # dagster-dbt says ERROR for a warn-level test that passed: its severity is still WARN.
    passed = check_result(_result("pass", True), _spec("warn"))
    assert (passed.passed, passed.severity) == (True, dg.AssetCheckSeverity.WARN)
    # A warn-level test that could not run (SQL error) stays an error; so does an error test.
    errored = check_result(_result("error", False), _spec("warn"))
    assert errored.severity == dg.AssetCheckSeverity.ERROR
    failed = check_result(_result("fail", False), _spec("error", table=None))
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert FAILING_ROWS_TABLE not in failed.metadata


class _Context:
    def __init__(self):
        self.warnings: list[str] = []
        self.log = SimpleNamespace(warning=self.warnings.append)

    def asset_key_for_output(self, output_name: str) -> dg.AssetKey:
        return dg.AssetKey(output_name.split("__"))


def _events():
    return [
        dg.Output(None, "staging__stg"),
        dg.Output(None, "marts__fct_atp_trade_monthly", metadata={"status": "success"}),
        dg.AssetCheckResult(
            asset_key=["marts", "fct_atp_trade_monthly"], check_name="pk", passed=True
        ),
        dg.AssetCheckResult(asset_key=["staging", "stg"], check_name="pk", passed=True),
    ]


@pytest.fixture
def marts_warehouse(tmp_path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.fct_atp_trade_monthly (month_start DATE)")
        con.execute(
            "INSERT INTO marts.fct_atp_trade_monthly VALUES (?), (?)",
            [date(2026, 8, 1), date(2026, 9, 1)],
        )
    return path


def test_the_marts_materializations_carry_their_metadata_after_the_build(marts_warehouse):
    context = _Context()
    out = list(with_mart_metadata(context, _events(), marts_warehouse))
    # The staging events stream as they come; the mart and its check follow, in order.
    assert [getattr(e, "output_name", getattr(e, "check_name", None)) for e in out] == [
        "staging__stg",
        "pk",
        "marts__fct_atp_trade_monthly",
        "pk",
    ]
    assert out[1].asset_key.path[0] == "staging" and out[3].asset_key.path[0] == "marts"
    mart = out[2]
    assert mart.metadata["dagster/row_count"].value == 2
    assert mart.metadata["newest_month"].value == "2026-09"
    assert mart.metadata["status"].value == "success"  # dagster-dbt's own kept
    assert context.warnings == []


def test_unreadable_marts_only_warn_and_a_failed_build_still_records_them(tmp_path):
    context = _Context()
    out = list(with_mart_metadata(context, _events(), tmp_path / "missing.duckdb"))
    assert len(out) == 4 and "dagster/row_count" not in out[2].metadata
    assert any("no row counts or preview for the marts" in w for w in context.warnings)

    def failing():
        yield from _events()
        raise RuntimeError("dbt build failed")

    seen: list = []
    with pytest.raises(RuntimeError, match="dbt build failed"):
        for event in with_mart_metadata(_Context(), failing(), tmp_path / "missing.duckdb"):
            seen.append(event)
    assert len(seen) == 4  # the mart built before the failure is recorded


def test_the_command_lines_warning_names_the_stored_rows_table():
    from orchestration.runner import _warning_lines

    warned = check_result(_result("warn", False, dg.AssetCheckSeverity.WARN), _spec("warn"))
    # (the run hands it evaluations, which have the same fields as the result)
    assert _warning_lines([warned]) == [
        "  WARNING t: 3 row(s) on staging/s (stored in dbt_test__audit.t)"
    ]
