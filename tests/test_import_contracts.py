"""The import contract that `make lint` enforces (pyproject.toml, [tool.importlinter]): it holds
for this tree, and it does fail when a role imports what it must not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _tree(tmp_path: Path, imports: dict[str, str]) -> Path:
    """Four empty role packages and this project's contract; `imports` adds a line to a role."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for package in ("ingest", "analyst", "orchestration", "fake_census"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(imports.get(package, ""))
    # The contract's one ignored import (the dbt plugin) must exist, or lint-imports refuses.
    (tmp_path / "ingest" / "dbt_functions.py").write_text("import dbt\n")
    return tmp_path


def test_this_tree_keeps_the_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("package", "line", "contract"),
    [
        ("ingest", "import dagster\n", "ingest is the core"),
        ("ingest", "import analyst\n", "ingest is the core"),
        ("analyst", "from orchestration import runner\n", "analyst runs without Dagster"),
        ("analyst", "import dagster_duckdb\n", "analyst runs without Dagster"),
    ],
)
def test_a_forbidden_import_breaks_the_contract(tmp_path, package, line, contract):
    tree = _tree(tmp_path, {package: line})
    (tree / "orchestration" / "runner.py").write_text("")
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout
    assert "1 broken" in result.stdout


def test_an_allowed_import_keeps_it(tmp_path):
    tree = _tree(tmp_path, {"orchestration": "import analyst\nimport dagster\n"})
    assert _lint(tree).returncode == 0
