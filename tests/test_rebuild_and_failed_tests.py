"""Two promises of `make run` / `make rebuild`: a failing dbt test leaves the marts as they were,
and the warehouse can be rebuilt from the landing zone without the network."""

from __future__ import annotations

import logging
import subprocess
import sys

import dagster as dg
import duckdb

from fake_census.fixtures import TOTAL, FixtureDataset
from ingest import partitions
from ingest.errors import WarehouseError
from orchestration.cli import main
from orchestration.runner import run_pipeline
from tests.conftest import point_cli_at

YEARS = [2025, 2026]
MARTS_QUERY = "SELECT * FROM marts.fct_atp_partner_year ORDER BY partner_code, year"


class UnreconciledTotal(FixtureDataset):
    """The U.S. total of 2025 imports is 2% above the sum of the countries (consistently across
    HITECH codes, so only the country reconciliation can catch it)."""

    def monthly_values(self, flow, year):
        values = super().monthly_values(flow, year)
        if values and (flow, year) == ("imports", 2025):
            extra = values[TOTAL]["04"] // 50
            values[TOTAL]["04"] += extra
            values[TOTAL][TOTAL] += extra
        return values


def marts(settings):
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(MARTS_QUERY).fetchall()


def test_a_failing_dbt_test_stops_the_marts(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=lambda _: None) == 0
    before = marts(env)
    fake_api.dataset = UnreconciledTotal()
    out: list[str] = []
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=out.append) == 1
    assert (
        "  FAILED test us_total_matches_countries_stg_census__hitech_imports_0_5 on "
        in "\n".join(out)
    )
    assert out[-1].startswith("dbt build failed")
    assert marts(env) == before  # the raw rows changed, the marts did not


def test_a_quiet_night_after_a_failed_build_builds_again_and_status_says_unpublished(
    env, fake_api, capsys, monkeypatch
):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=YEARS, instance=instance, out=lambda _: None) == 0
    point_cli_at(monkeypatch, env)
    assert main(["status"]) == 0
    fake_api.dataset = UnreconciledTotal()
    assert run_pipeline(env, "api", years=YEARS, instance=instance, out=lambda _: None) == 1
    capsys.readouterr()
    assert main(["status"]) == 1  # the raw data changed; the published copy does not have it
    unpublished = next(line for line in capsys.readouterr().out.splitlines() if "Unpub" in line)
    assert unpublished.split(":", 1)[1].strip().startswith("the raw data changed (2026-")
    assert unpublished.endswith("after the last publication; the next refresh builds and publishes")
    # The next refresh finds the raw data as stored, but the build is due: it runs (and fails
    # again on the same data) instead of saying "Nothing new".
    out: list[str] = []
    code = run_pipeline(
        env, "api", years=YEARS, instance=instance, out=out.append, only_if_changed=True
    )
    assert code == 1 and out[-1].startswith("dbt build failed"), out
    assert "imports 2025: unchanged, " in "\n".join(out)
    # The API is right again: the refresh builds, publishes, and status is content.
    fake_api.dataset = FixtureDataset()
    out = []
    code = run_pipeline(
        env, "api", years=YEARS, instance=instance, out=out.append, only_if_changed=True
    )
    assert code == 0 and out[-1] == "Done.", out
    assert main(["status"]) == 0
    assert "Unpublished" not in capsys.readouterr().out


def test_rebuild_reloads_from_the_landing_zone_without_the_network(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=lambda _: None) == 0
    before = marts(env)
    fake_api.stop()
    env.warehouse.unlink()
    out: list[str] = []
    assert run_pipeline(env, "landing", years=[2024, 2025], instance=instance, out=out.append) == 0
    assert "(reloading from the landing zone)" in out[0]
    assert "  exports 2025: 1,296 rows, 12 month(s) 2025-01..2025-12" in out
    assert marts(env) == before


def test_a_failed_partition_keeps_the_others_and_skips_dbt(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    fake_api.set_fault_for("imports", 2025, "400")
    out: list[str] = []
    assert (
        run_pipeline(env, "api", years=[2024, 2025, 2026], instance=instance, out=out.append) == 1
    )
    text = "\n".join(out)
    assert "FAILED raw load: imports: 2 of 3 year(s) loaded: 2024, 2026; failed:" in text
    assert (
        "\n    imports 2025: the Census API rejected the request with HTTP 400: error: unknown"
        in text
    )
    assert out[-1].startswith("dbt build skipped")
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        years = con.execute(
            "SELECT DISTINCT year FROM raw.census_hitech_imports ORDER BY 1"
        ).fetchall()
        assert not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchone()[0]
    assert years == [(2024,), (2026,)]
    materialized = instance.get_materialized_partitions(
        dg.AssetKey(["raw", "census_hitech_imports"])
    )
    assert materialized == {"2024", "2026"}
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "census_hitech_exports"])) == {
        "2024",
        "2025",
        "2026",
    }


def test_a_busy_warehouse_fails_the_raw_loads_with_the_reason_and_loads_nothing(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=lambda _: None) == 0
    holder = subprocess.Popen(  # another process holding the warehouse open for writing
        [sys.executable, "-c", HOLD_WAREHOUSE, str(env.warehouse)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        out: list[str] = []
        assert run_pipeline(env, "api", years=[2024, 2025], instance=instance, out=out.append) == 1
    finally:
        holder.kill()
        holder.wait()
    text = "\n".join(out)
    assert "FAILED raw load: imports: 0 of 2 year(s) loaded; failed:" in text
    assert "\n    imports 2024, 2025: warehouse busy: another process has" in text
    assert out[-1].startswith("dbt build skipped")
    with duckdb.connect(str(env.warehouse), read_only=True) as con:
        assert con.execute("SELECT DISTINCT year FROM raw.census_hitech_imports").fetchall() == [
            (2025,)
        ]


HOLD_WAREHOUSE = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
    "time.sleep(60)"
)


def test_an_unexpected_loader_error_fails_the_rest_and_keeps_the_years_loaded(env, monkeypatch):
    # A DuckDB error escapes the loader at 2025: 2024 stays recorded as materialized, and 2025
    # and 2026 fail with the reason instead of vanishing with the step.
    real = partitions.load_partition

    def load(con, table, *args, **kwargs):
        if table.flow == "imports" and table.year == 2025:
            raise duckdb.IOException("disk I/O error: simulated")
        return real(con, table, *args, **kwargs)

    monkeypatch.setattr(partitions, "load_partition", load)
    instance = dg.DagsterInstance.ephemeral()
    out: list[str] = []
    assert (
        run_pipeline(env, "api", years=[2024, 2025, 2026], instance=instance, out=out.append) == 1
    )
    text = "\n".join(out)
    assert "FAILED raw load: imports: 1 of 3 year(s) loaded: 2024; failed:" in text
    assert "imports 2025, 2026: IOException: disk I/O error: simulated" in text
    imports = dg.AssetKey(["raw", "census_hitech_imports"])
    assert instance.get_materialized_partitions(imports) == {"2024"}


def test_a_failure_reading_the_marts_metadata_never_hides_the_build(env, monkeypatch):
    # The marts' metadata (row counts, preview) is read after dbt: an error there is a
    # warning; dbt's own materializations and tests are all recorded, and the copy published.
    from orchestration import dbt_assets

    def broken(con, tables=None):
        raise WarehouseError("simulated: the marts cannot be read")

    monkeypatch.setattr(dbt_assets, "mart_metadata", broken)
    instance = dg.DagsterInstance.ephemeral()
    out: list[str] = []
    assert run_pipeline(env, "api", years=[2025], instance=instance, out=out.append) == 0
    assert out[-1] == "Done." and any(line.startswith("Published ") for line in out)
    partner_year = dg.AssetKey(["marts", "fct_atp_partner_year"])
    event = instance.get_latest_materialization_event(partner_year)
    assert "dagster/row_count" not in event.asset_materialization.metadata
    run = instance.get_runs(limit=1)[0]
    warnings = [
        e.message for e in instance.all_logs(run.run_id) if e.level == logging.WARNING and e.message
    ]
    assert any("no row counts or preview for the marts: simulated" in m for m in warnings)
