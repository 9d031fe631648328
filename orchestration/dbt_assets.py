"""The dbt project as Dagster assets; dbt tests become asset checks."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.freshness import read_freshness, record_build_started
from ingest.locking import writer_lock
from orchestration.dbt_project import DBT_PROJECT, dbt_vars
from orchestration.raw_assets import DUCKDB_POOL
from orchestration.resources import AtpSettings
from orchestration.run_health import mark_processes_of

# dbt unit tests check the SQL logic, not the data: the test suite runs them (`make test`).
# dbt's log file at warn: Dagster keeps every info-level event anyway (bench/README.md).
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "warn"]


class AtpDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or {}
        # Group models by dbt layer (staging, intermediate, marts) in the UI.
        fqn = node.get("fqn") or []
        if node.get("resource_type") == "model" and len(fqn) > 2:
            spec = spec.replace_attributes(group_name=fqn[1])
        elif node.get("resource_type") == "seed":
            spec = spec.replace_attributes(group_name="seeds")
        return spec


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


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=AtpDbtTranslator(),
    pool=DUCKDB_POOL,
)
def atp_dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    settings: AtpSettings,
):
    config_settings = settings.settings
    warehouse, published = config_settings.warehouse, config_settings.published
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
        yield from dbt.cli(args, context=context, target_path=target).stream()


DBT_STEP = atp_dbt_models.op.name
