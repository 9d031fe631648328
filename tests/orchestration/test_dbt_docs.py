"""Every mart and every mart column is documented in dbt (units, basis, how it is computed)."""

from __future__ import annotations

import json

from tests.conftest import ROOT


def test_every_mart_column_has_a_description():
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    marts = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    assert len(marts) >= 8
    undocumented = [
        f"{node['name']}.{column}"
        for node in marts
        for column, spec in node["columns"].items()
        if len(spec.get("description", "").strip()) < 15
    ]
    assert undocumented == []
    assert all(len(node["description"].strip()) > 30 for node in marts)
