"""The dbt project as dagster-dbt sees it, and the one way its manifest is prepared (make, the
tests, the benchmark and `dagster dev` all go through `prepare_dbt`).

The warehouse path reaches dbt as a dbt variable (`--vars`, read by profiles.yml), in the dbt
process only. Parse and build pass the same value, so the build reuses the parse (dbt re-parses
everything when the variables change)."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DbtProjectPreparer
from packaging import version

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The dbt installed with this Python (the project's venv).
DBT_BESIDE_PYTHON = Path(sys.executable).parent / "dbt"


def dbt_executable() -> str:
    # Prefer the dbt beside this Python (the project's venv), even when it is not on PATH.
    if DBT_BESIDE_PYTHON.exists():
        return str(DBT_BESIDE_PYTHON)
    return shutil.which("dbt") or "dbt"


def dbt_vars(warehouse: Path) -> list[str]:
    """The arguments that point dbt at `warehouse` (profiles.yml reads `var('atp_warehouse')`)."""
    return ["--vars", json.dumps({"atp_warehouse": str(warehouse)})]


class AtpDbtCliResource(DbtCliResource):
    """dagster-dbt's resource minus two start-up costs (measured in bench/README.md). Both
    overrides are private methods of dagster-dbt, pinned to 0.29.x; a test checks they apply."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # Instead of running `dbt --version` before every invocation: ask the package.
        if Path(self.dbt_executable) != DBT_BESIDE_PYTHON:
            return super()._cli_version
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        # The in-process adapter serves only fetch_row_counts()/fetch_column_metadata(), which
        # we do not use; dagster-dbt runs without one when this returns None.
        return None


def dbt_resource() -> DbtCliResource:
    # No ANSI colours: dbt's lines end up in Dagster's logs and, with -v, in files and pipes.
    return AtpDbtCliResource(
        project_dir=DBT_PROJECT,
        dbt_executable=dbt_executable(),
        global_config_flags=["--no-use-colors"],
    )


class AtpDbtPreparer(DbtProjectPreparer):
    """dagster-dbt's preparer contract: `dbt parse` for one warehouse, with the dbt beside
    this Python (the stock preparer looks for `dbt` on PATH, which a venv need not be on)."""

    def __init__(self, warehouse: Path):
        self.warehouse = warehouse

    def prepare(self, project: DbtProject) -> None:
        args = ["parse", "--quiet", *dbt_vars(self.warehouse)]
        dbt_resource().cli(args, target_path=project.target_path).wait()


def prepare_dbt(warehouse: Path) -> Path:
    """Parse the project for `warehouse`; returns the manifest's path."""
    AtpDbtPreparer(warehouse).prepare(DBT_PROJECT)
    return DBT_PROJECT.manifest_path
