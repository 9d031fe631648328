"""The dbt project as Dagster assets; dbt tests become asset checks."""

import importlib.metadata
import os
import shutil
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ingest.locking import writer_lock
from ingest.settings import Settings
from orchestration.mart_metadata import mart_metadata
from orchestration.raw_assets import DUCKDB_POOL

# The dbt installed with this Python (the project's venv).
DBT_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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


class AtpDbtCliResource(DbtCliResource):
    """dagster-dbt's resource minus two start-up costs. Both overrides are private methods of
    dagster-dbt, which pyproject.toml pins to 0.29.x; tests/orchestration checks they still apply."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt learns the dbt version by running `dbt --version` before every invocation,
        # about 2 s of imports per run. When the executable is the dbt installed beside this
        # Python, ask its package directly.
        if Path(self.dbt_executable) != DBT_BESIDE_PYTHON:
            return super()._cli_version
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        # dagster-dbt also opens a dbt adapter in this process before every invocation (about
        # 1.5 s), used only by `fetch_row_counts()` and `fetch_column_metadata()`. We use neither:
        # mart_metadata() reads the marts once dbt has exited. dagster-dbt runs without an
        # adapter when this returns None.
        return None


def dbt_resource() -> DbtCliResource:
    # Prefer the dbt installed beside this Python (the project's venv), even when it is not on PATH.
    if DBT_BESIDE_PYTHON.exists():
        executable = str(DBT_BESIDE_PYTHON)
    else:
        executable = shutil.which("dbt") or "dbt"
    return AtpDbtCliResource(project_dir=dbt_project, dbt_executable=executable)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=AtpDbtTranslator(),
    pool=DUCKDB_POOL,
)
def atp_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    warehouse = Settings.from_env().warehouse
    # dbt runs inside dbt_project/, so give it the warehouse as an absolute path.
    os.environ["ATP_WAREHOUSE"] = str(warehouse)
    # dbt's artifacts (run results, compiled SQL, logs) go beside the warehouse they describe: one
    # reused folder per warehouse, instead of dagster-dbt's new folder per invocation, which would
    # grow by megabytes with every nightly run.
    target = warehouse.with_name(f"{warehouse.stem}.dbt-target")
    # dbt unit tests check the SQL logic, not the data: the test suite runs them (`make test`).
    # dbt's own log file at warn: writing its debug log cost about 1 s per build, and Dagster
    # keeps every info-level event anyway.
    args = ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "warn"]
    events = []
    try:
        with writer_lock(warehouse):
            for event in dbt.cli(args, context=context, target_path=target).stream():
                events.append(event)
    finally:
        # Row counts, newest month and a top-10 preview on the marts, read once dbt has exited
        # (it holds the file until then). On failure, the models that were built still count.
        extra = mart_metadata(warehouse) if warehouse.exists() else {}
        for event in events:
            key = _asset_key(context, event)
            if key in extra:
                event = event.with_metadata({**(event.metadata or {}), **extra[key]})
            yield event


def _asset_key(context: dg.AssetExecutionContext, event) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):  # dagster-dbt names each model's output by its unique id
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, dg.MaterializeResult):
        return event.asset_key
    return None
