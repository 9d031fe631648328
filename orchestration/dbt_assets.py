"""The dbt project as Dagster assets; dbt tests become asset checks.

How the UI reads them: every dbt node is keyed `<schema>/<name>` and grouped by that schema
(staging, intermediate, marts; the seed lives in staging); every asset has the team as owner;
the marts carry a freshness policy (asset_policies.py), and each mart's materialization carries
its row count, newest month and (partner-year) a top-10 preview. Every check has the dbt test's
description; a warn-level test reports WARN, and a test that stores its failing rows names their
table (`failing_rows_table`, in the schema dbt_test__audit of the working warehouse)."""

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.freshness import read_freshness, record_build_started
from ingest.locking import writer_lock
from ingest.settings import Settings
from ingest.warehouse import MARTS, connect
from orchestration.asset_policies import OWNERS, RELEASE_FRESHNESS
from orchestration.dbt_project import DBT_PROJECT, dbt_vars
from orchestration.mart_metadata import mart_metadata
from orchestration.raw_assets import DUCKDB_POOL
from orchestration.run_health import mark_processes_of

# dbt unit tests check the SQL logic, not the data: the test suite runs them (`make test`).
# dbt's log file at warn: Dagster keeps every info-level event anyway (bench/README.md).
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "warn"]
# On a check: the table holding the test's failing rows (store_failures), and dbt's severity.
FAILING_ROWS_TABLE = "failing_rows_table"
DBT_SEVERITY = "dbt_severity"


class AtpDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        # Keys are <schema>/<name> (dagster-dbt's default with the schemas of dbt_project.yml):
        # the group is that schema, so the key and the group agree for models and the seed.
        if unique_id.split(".")[0] in ("model", "seed", "snapshot"):
            spec = spec.replace_attributes(group_name=spec.key.path[0])
            if spec.key.path[0] == MARTS:
                spec = spec.replace_attributes(freshness_policy=RELEASE_FRESHNESS)
        return spec

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        # A model's own owners (dbt group owner or meta.dagster.owners) win; else the team.
        return list(super().get_owners(dbt_resource_props) or OWNERS)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        # Not a public dagster-dbt method (0.29): a test in tests/orchestration checks that it
        # still applies. dagster-dbt takes a check's description from the test's meta only.
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"][unique_id]
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description or dbt_test_description(test),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata={**spec.metadata, **dbt_test_metadata(test)},
            automation_condition=spec.automation_condition,
            partitions_def=spec.partitions_def,
        )


def dbt_test_description(test: Mapping[str, Any]) -> str:
    """The test's own description (`description:` in the yml), else one naming what it tests."""
    if (test.get("description") or "").strip():
        return test["description"].strip()
    name = (test.get("test_metadata") or {}).get("name") or "singular"
    on = (test.get("attached_node") or "").rsplit(".", 1)[-1] or test["name"]
    column = f".{test['column_name']}" if test.get("column_name") else ""
    return f"dbt test `{name}` on {on}{column} (no description in its yml)."


def dbt_test_metadata(test: Mapping[str, Any]) -> dict[str, str]:
    config = test.get("config") or {}
    metadata = {DBT_SEVERITY: (config.get("severity") or "error").lower()}
    if config.get("store_failures") or config.get("store_failures_as") in ("table", "view"):
        metadata[FAILING_ROWS_TABLE] = f"{test['schema']}.{test['alias']}"
    return metadata


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild the incremental models from scratch (dbt --full-refresh), as `atp rebuild` does;
    otherwise the vintage history's staging adds only the vintages it has not staged yet."""
    only_if_changed: bool = False
    """Skip the build, and so publishing, when the published copy is current: no raw data
    changed, and no build went unpublished, since the last publication (`atp refresh` and the
    nightly schedule). Off: always build (`atp run`, `atp rebuild`, a launch from the UI)."""


def build_args(warehouse: Path, full_refresh: bool = False) -> list[str]:
    return [*BUILD_ARGS, *dbt_vars(warehouse), *(["--full-refresh"] if full_refresh else [])]


# No `project=`: dagster-dbt would keep the DbtProject object in every asset's definition
# metadata, which the UI shows as "[DbtProject] (unserializable)". It only serves code
# references (off) and a temporary copy of the project for very large subset selections; the
# resource's project_dir is the same project.
@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    dagster_dbt_translator=AtpDbtTranslator(),
    pool=DUCKDB_POOL,
)
def atp_dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    settings: dg.ResourceParam[Settings],
):
    warehouse, published = settings.warehouse, settings.published
    fresh = read_freshness(published)
    if config.only_if_changed and not fresh.unpublished:
        since = f"{fresh.last_changed:%Y-%m-%d %H:%M} UTC" if fresh.last_changed else "-"
        context.log.info(f"nothing new since {since}: dbt build skipped, published copy unchanged")
        return  # no asset yielded: publishing is skipped too
    if fresh.unpublished:
        context.log.info(f"building: {fresh.unpublished}")
    record_build_started(published, datetime.now(UTC))
    mark_processes_of(context.run_id)  # dbt outlives a killed run otherwise (run_health)
    # dbt's artifacts go to one reused folder beside the warehouse they describe, instead of
    # dagster-dbt's new folder per invocation (megabytes more with every nightly run).
    target = warehouse.with_name(f"{warehouse.stem}.dbt-target")
    with writer_lock(warehouse):
        args = build_args(warehouse, config.full_refresh)
        events = dbt.cli(args, context=context, target_path=target).stream()
        yield from with_mart_metadata(context, checked(context, events), warehouse)


DBT_STEP = atp_dbt_models.op.name


def checked(context: dg.AssetExecutionContext, events: Iterable) -> Iterator:
    """dbt's events, each check result completed from its spec: WARN for a warn-level test
    (dagster-dbt says ERROR unless the test failed at warn), and the failing rows' table."""
    specs = {spec.key: spec for spec in context.assets_def.check_specs}
    for event in events:
        spec = None
        if isinstance(event, dg.AssetCheckResult) and event.asset_key is not None:
            spec = specs.get(dg.AssetCheckKey(event.asset_key, event.check_name))
        yield event if spec is None else check_result(event, spec)


def check_result(result: dg.AssetCheckResult, spec: dg.AssetCheckSpec) -> dg.AssetCheckResult:
    status = result.metadata.get("status")
    errored = status is not None and status.value == "error"  # a test that could not run
    warn_level = spec.metadata.get(DBT_SEVERITY) == "warn"
    severity = dg.AssetCheckSeverity.WARN if warn_level and not errored else result.severity
    table = spec.metadata.get(FAILING_ROWS_TABLE)
    return dg.AssetCheckResult(
        asset_key=result.asset_key,
        check_name=result.check_name,
        passed=result.passed,
        severity=severity,
        description=result.description,
        metadata={**result.metadata, **({FAILING_ROWS_TABLE: table} if table else {})},
    )


def with_mart_metadata(
    context: dg.AssetExecutionContext, events: Iterable, warehouse: Path
) -> Iterator:
    """dbt's events as they come, except the marts' materializations (and their checks, which
    must follow them): held until dbt has exited and the marts can be read, then yielded with
    their row count, newest month and preview. If dbt fails, what it built is still recorded."""
    held: list = []
    try:
        for event in events:
            key = _key_of(context, event)
            if key is not None and key.path[0] == MARTS:
                held.append(event)
            else:
                yield event
    except GeneratorExit:
        raise
    except BaseException:
        yield from held  # what dbt built, without the metadata: the step fails anyway
        raise
    built = {_key_of(context, e).path[-1] for e in held if isinstance(e, dg.Output)}
    found: dict[dg.AssetKey, dict] = {}
    if built:
        # A nicety: a failure here is a warning, never a failed build.
        try:
            with connect(warehouse, read_only=True) as con:
                found = mart_metadata(con, built)
        except Exception as exc:  # noqa: BLE001 - the build succeeded; only the UI misses them
            context.log.warning(f"no row counts or preview for the marts: {exc}")
    for event in held:
        key = _key_of(context, event)
        if isinstance(event, dg.Output) and key in found:
            event = event.with_metadata({**event.metadata, **found[key]})
        yield event


def _key_of(context: dg.AssetExecutionContext, event) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, dg.AssetCheckResult):
        return event.asset_key
    return None
