"""Product detail through the whole pipeline (the raw step, dbt, publishing) against the fake
API: what a run does when a list is missing, when the codes change from one year to the next,
when Census revises product values, when nothing changed, and when answers are too large."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb

from fake_census import revised_fixture_dataset
from fake_census.code_lists import FIXTURE_CODES
from ingest.datasets import HS
from orchestration.raw_assets import raw_asset_key
from orchestration.runner import run_pipeline

YEARS = [2025, 2026]


def _run(env, instance, **options) -> tuple[int, list[str]]:
    out: list[str] = []
    code = run_pipeline(env, "api", years=YEARS, instance=instance, out=out.append, **options)
    return code, out


def _published(env, sql: str) -> list[tuple]:
    with duckdb.connect(str(env.published), read_only=True) as con:
        return con.execute(sql).fetchall()


def _landed(env) -> set[Path]:
    """The product answers and lists landed (each fetch adds a manifest, never a file twice)."""
    answers = {p for p in (env.landing_dir / "hs").rglob("*.json") if "manifest" not in p.name}
    return answers | set((env.landing_dir / "atp_codes").rglob("*.txt"))


def test_a_missing_export_list_warns_and_everything_else_carries_on(env, fake_api):
    fake_api.code_lists.set_fault("exports", 2026, "404")
    code, out = _run(env, dg.DagsterInstance.ephemeral())
    assert code == 0, out
    (warning,) = [line for line in out if "exports 2026 products" in line]
    assert warning == (
        f"  exports 2026 products: skipped: no ATP code list at "
        f"{fake_api.atp_codes_base_url}/expatp26.txt (HTTP 404)"
    )
    assert "  imports 2026 products: 1,557 rows, 9 month(s) 2026-01..2026-09" in out
    assert out[-1] == "Done."
    flows = _published(
        env, "SELECT DISTINCT year, flow FROM marts.fct_atp_product_coverage ORDER BY ALL"
    )
    assert flows == [(2025, "exports"), (2025, "imports"), (2026, "imports")]


def test_each_year_joins_its_own_list(env, fake_api):
    # 2026's list moves smartphones from group 04 to 05 and replaces a code of group 08.
    moved = [
        ("05", code, text) if code == "8517130000" else (group, code, text)
        for group, code, text in FIXTURE_CODES
        if code != "8802400050"
    ] + [("08", "8802400060", "PASSENGER AIRPLANES, NEW, OVER 15,000 KG (2026 CODE)")]
    for flow in ("imports", "exports"):
        fake_api.code_lists.set_list(flow, 2026, moved)
    code, out = _run(env, dg.DagsterInstance.ephemeral())
    assert code == 0, out
    groups = dict(
        _published(
            env,
            "SELECT year, atp_group_code FROM marts.fct_atp_product_year "
            "WHERE commodity_code = '8517130000' AND flow = 'imports' AND partner_code = '2010'",
        )
    )
    assert groups == {2025: "04", 2026: "05"}
    codes = _published(
        env,
        "SELECT year, commodity_code FROM marts.fct_atp_product_year WHERE flow = 'imports' "
        "AND partner_code = '2010' AND commodity_code LIKE '88024000%' ORDER BY ALL",
    )
    # The new code has no 2025 row; the old one is on 2025's list only.
    assert codes == [(2025, "8802400050"), (2026, "8802400060")]
    # The fake's products follow each year's list, so every group is covered either way.
    assert _published(env, "SELECT min(coverage_pct) FROM marts.fct_atp_product_coverage") == [
        (100.0,)
    ]


def test_a_revision_makes_a_new_vintage_and_republishes_and_nothing_new_writes_nothing(
    env, fake_api
):
    instance = dg.DagsterInstance.ephemeral()
    code, out = _run(env, instance)
    assert code == 0, out
    landed = _landed(env)
    value = "SELECT sum(value_usd) FROM marts.fct_atp_product_year WHERE year = 2025"
    (before,) = _published(env, value)

    # Nothing new: the products' answers and lists are those landed; nothing is written.
    code, out = _run(env, instance, only_if_changed=True)
    assert code == 0 and out[-1].startswith("Nothing new since"), out
    assert _landed(env) == landed
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        vintages = con.execute(
            f"SELECT year, count(DISTINCT _landing_file) FROM {HS.raw_table('imports')}_history "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert vintages == [(2025, 1), (2026, 1)]

    # Census revises 2025: the products follow the revised hitech values.
    fake_api.dataset = revised_fixture_dataset()
    code, out = _run(env, instance, only_if_changed=True)
    assert code == 0 and out[-1] == "Done.", out
    (revised,) = [line for line in out if line.startswith("  imports 2025 products: ")]
    assert "unchanged" not in revised
    assert "  imports 2026 products: unchanged, 1,557 rows, 9 month(s) 2026-01..2026-09" in out
    (after,) = _published(env, value)
    assert after != before
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        vintages = con.execute(
            f"SELECT year, count(DISTINCT _landing_file) FROM {HS.raw_table('imports')}_history "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert vintages[0] == (2025, 2)
    assert _published(env, "SELECT min(coverage_pct) FROM marts.fct_atp_product_coverage") == [
        (100.0,)
    ]
    # Dagster shows the product partitions materialized, with the plan in their metadata.
    run = instance.get_runs(limit=1)[0]
    materialized = [
        e.dagster_event.event_specific_data.materialization
        for e in instance.all_logs(run.run_id)
        if e.dagster_event and e.dagster_event.is_step_materialization
    ]
    hs = [m for m in materialized if m.asset_key == raw_asset_key("imports", HS)]
    assert {m.partition for m in hs} == {"2025", "2026"}
    assert {m.metadata["note"].value for m in hs} == {"1 request(s)"}


def test_answers_too_large_are_split_and_the_marts_do_not_change(env, fake_api, tmp_path):
    code, out = _run(env, dg.DagsterInstance.ephemeral())
    assert code == 0, out
    whole = _published(env, "SELECT * FROM marts.fct_atp_product_year ORDER BY ALL")

    fake_api.max_answer_rows = 500  # a year of one flow is ~2,000 rows: none comes whole
    fake_api.reset()
    split = replace(
        env,
        warehouse=tmp_path / "split.duckdb",
        landing_dir=tmp_path / "split-landing",
        published=tmp_path / "split.atp.duckdb",
        report_dir=tmp_path / "split-report",
    )
    instance = dg.DagsterInstance.ephemeral()
    code, out = _run(split, instance)
    assert code == 0, out
    assert sum(r.status == 504 for r in fake_api.product_requests) >= 4
    run = instance.get_runs(limit=1)[0]
    notes = {
        e.dagster_event.event_specific_data.materialization.metadata["note"].value
        for e in instance.all_logs(run.run_id)
        if e.dagster_event
        and e.dagster_event.is_step_materialization
        and e.dagster_event.asset_key == raw_asset_key("imports", HS)
    }
    assert all("more after splits" in note for note in notes) and len(notes) >= 1
    assert _published(split, "SELECT * FROM marts.fct_atp_product_year ORDER BY ALL") == whole


def test_a_rebuild_restores_product_detail_from_the_landing_zone_alone(env, fake_api):
    code, out = _run(env, dg.DagsterInstance.ephemeral())
    assert code == 0, out
    before = _published(env, "SELECT * FROM marts.fct_atp_product_year ORDER BY ALL")
    env.warehouse.unlink()
    fake_api.stop()  # no network: everything comes from the landing zone
    out: list[str] = []
    code = run_pipeline(
        env, "landing", years=YEARS, instance=dg.DagsterInstance.ephemeral(), out=out.append
    )
    assert code == 0, out
    assert "  exports 2025 products: 2,076 rows, 12 month(s) 2025-01..2025-12" in out
    assert _published(env, "SELECT * FROM marts.fct_atp_product_year ORDER BY ALL") == before


def test_without_product_detail_a_run_builds_and_publishes_and_asks_nothing_of_it(env, fake_api):
    # The dbt step depends on the product tables too: they must not hold it back (a run with
    # ATP_PRODUCTS=0 once published nothing and said "Nothing new").
    code, out = _run(replace(env, products=False), dg.DagsterInstance.ephemeral())
    assert code == 0 and out[-1] == "Done.", out
    assert not [line for line in out if "products" in line]
    assert fake_api.product_requests == [] and not (env.landing_dir / "hs").exists()
    assert _published(env, "SELECT count(*) FROM marts.fct_atp_product_year") == [(0,)]
    assert _published(env, "SELECT count(*) FROM marts.fct_atp_partner_year") == [(12,)]
