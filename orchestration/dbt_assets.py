"""The dbt project as Dagster assets; dbt tests become asset checks."""

from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.locking import writer_lock
from orchestration.dbt_project import DBT_PROJECT, dbt_vars
from orchestration.raw_assets import DUCKDB_POOL
from orchestration.resources import AtpSettings

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
    warehouse = settings.settings.warehouse
    # dbt's artifacts go to one reused folder beside the warehouse they describe, instead of
    # dagster-dbt's new folder per invocation (megabytes more with every nightly run).
    target = warehouse.with_name(f"{warehouse.stem}.dbt-target")
    with writer_lock(warehouse):
        args = build_args(warehouse, config.full_refresh)
        yield from dbt.cli(args, context=context, target_path=target).stream()
