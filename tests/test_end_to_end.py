"""The `make run` path end to end: Dagster materializes every raw partition from the fake API,
then dbt builds the marts. Every expected value below is worked out by hand from
fake_census/fixtures.py (monthly values are constant within a year).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.runner import run_pipeline
from tests.conftest import ROOT, SENTINEL_KEY, make_settings, point_cli_at

B = 1_000_000_000
MEXICO, CHINA, TAIWAN, GERMANY, CANADA, VIETNAM = "2010", "5700", "5830", "4280", "1220", "5520"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    with FakeCensusApi(fixture_dataset()) as api, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CENSUS_API_KEY", SENTINEL_KEY)
        settings = make_settings(tmp, api.base_url)
        point_cli_at(mp, settings)
        lines: list[str] = []
        instance = dg.DagsterInstance.ephemeral()
        code = run_pipeline(settings, "api", instance=instance, out=lines.append)
        yield {
            "code": code,
            "lines": lines,
            "api": api,
            "instance": instance,
            "mp": mp,
            "settings": settings,
        }


@pytest.fixture(scope="module")
def db(built):
    assert built["code"] == 0, "\n".join(built["lines"])
    with duckdb.connect(str(built["settings"].warehouse), read_only=True) as con:
        yield con


def row(con, sql, *params):
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    found = cur.fetchall()
    assert len(found) == 1, found
    return dict(zip(names, found[0], strict=True))


def test_run_prints_progress_per_partition_and_makes_two_requests_per_year(built):
    lines, api = built["lines"], built["api"]
    assert built["code"] == 0, "\n".join(lines)
    assert "  imports 2024: 1,152 rows, 12 month(s) 2024-01..2024-12" in lines
    assert "  exports 2025: 1,296 rows, 12 month(s) 2025-01..2025-12" in lines
    assert "  imports 2026: 972 rows, 9 month(s) 2026-01..2026-09" in lines
    assert len(api.data_requests) == 2 * 3  # 2024..2026, the years due on the pinned day
    assert any(line.endswith("tests passed") and "0/" not in line for line in lines), lines
    assert lines[-1] == "Done."
    report = built["settings"].report_dir / "index.html"
    assert f"Wrote the HTML report {report}" in lines and report.stat().st_size > 10_000


def test_partner_year_for_a_full_year(db):
    mexico = row(
        db,
        "SELECT * FROM marts.fct_atp_partner_year WHERE partner_code = ? AND year = 2025",
        MEXICO,
    )
    assert mexico == {
        "partner_code": MEXICO,
        "partner_name": "Mexico",
        "year": 2025,
        "months_covered": 12,
        "atp_imports_usd": 120 * B,  # 10 bn a month
        "atp_exports_usd": 52_800_000_000,  # 4.4 bn a month
        "atp_balance_usd": -67_200_000_000,
        "atp_imports_change_usd": 24 * B,  # vs 96 bn in 2024
        "atp_exports_change_usd": 4_800_000_000,  # vs 48 bn
        "atp_imports_yoy_pct": pytest.approx(25.0),
        "atp_exports_yoy_pct": pytest.approx(10.0),  # vs 48 bn
        # U.S. total 2025: (10 + 9 + 7.5 + 2 + 1.2 + 3) bn x 12 = 392.4 bn
        "atp_imports_share_pct": pytest.approx(100 * 120 / 392.4),
        # U.S. exports 2025: (4.4 + 2.4 + 2 + 1.8 + 5 + 0.5) bn x 12 = 193.2 bn
        "atp_exports_share_pct": pytest.approx(100 * 52.8 / 193.2),
        "atp_imports_rank": 1,
        "atp_exports_rank": 2,  # Canada exports 60 bn
        "goods_imports_usd": 480 * B,  # (30 + 10) bn x 12
        "goods_exports_usd": 316_800_000_000,  # (22 + 4.4) bn x 12
        "goods_trade_usd": 796_800_000_000,
        "goods_balance_usd": -163_200_000_000,
        "goods_imports_yoy_pct": pytest.approx(100 * (480 / 456 - 1)),  # 2024: 38 bn x 12
        "goods_trade_yoy_pct": pytest.approx(3.75),  # 2024: 456 + 312 = 768 bn
        "atp_share_of_goods_imports_pct": pytest.approx(25.0),
        # no value cell was empty: every amount is complete
        "atp_imports_missing_cells": 0,
        "atp_exports_missing_cells": 0,
        "goods_imports_missing_cells": 0,
        "goods_exports_missing_cells": 0,
    }


def test_a_partial_year_compares_the_same_months_of_the_year_before(db):
    mexico = row(
        db,
        "SELECT * FROM marts.fct_atp_partner_year WHERE partner_code = ? AND year = 2026",
        MEXICO,
    )
    assert mexico["months_covered"] == 9
    assert mexico["atp_imports_usd"] == 99 * B  # 11 bn x 9
    assert mexico["atp_imports_change_usd"] == 9 * B  # vs Jan-Sep 2025 = 90 bn, not 120 bn
    assert mexico["atp_imports_yoy_pct"] == pytest.approx(10.0)
    assert mexico["atp_exports_yoy_pct"] == pytest.approx(0.0)
    # U.S. Jan-Sep 2026: (11 + 8.1 + 9 + 2.2 + 1.2 + 3.6) bn x 9 = 315.9 bn
    assert mexico["atp_imports_share_pct"] == pytest.approx(100 * 99 / 315.9)
    ranks = dict(
        db.execute(
            "SELECT partner_code, atp_imports_rank FROM marts.fct_atp_partner_year WHERE year = 2026"
        ).fetchall()
    )
    assert ranks == {MEXICO: 1, TAIWAN: 2, CHINA: 3, VIETNAM: 4, GERMANY: 5, CANADA: 6}


def test_a_partner_without_a_base_year_has_no_growth_rate(db):
    vietnam = row(
        db,
        "SELECT * FROM marts.fct_atp_partner_year WHERE partner_code = ? AND year = 2025",
        VIETNAM,
    )
    assert vietnam["atp_imports_usd"] == 36 * B
    assert vietnam["atp_imports_yoy_pct"] is None and vietnam["atp_imports_change_usd"] is None
    assert vietnam["atp_imports_rank"] == 4


def test_partner_year_holds_countries_only(db):
    per_year = dict(
        db.execute(
            "SELECT year, list(partner_code ORDER BY partner_code) FROM marts.fct_atp_partner_year GROUP BY year"
        ).fetchall()
    )
    assert per_year[2024] == sorted([MEXICO, CHINA, TAIWAN, GERMANY, CANADA])
    assert (
        per_year[2025]
        == per_year[2026]
        == sorted([MEXICO, CHINA, TAIWAN, GERMANY, CANADA, VIETNAM])
    )


def test_us_year(db):
    rows = db.execute("SELECT * FROM marts.fct_us_atp_year ORDER BY year").fetchall()
    names = [d[0] for d in db.description]
    us = {r[0]: dict(zip(names, r, strict=True)) for r in rows}
    assert us[2024] == {
        "year": 2024,
        "months_covered": 12,
        "atp_imports_usd": 336 * B,
        "atp_exports_usd": 186 * B,
        "atp_balance_usd": -150 * B,
        "atp_imports_change_usd": None,  # 2023 is not loaded: no base
        "atp_exports_change_usd": None,
        "atp_imports_yoy_pct": None,
        "atp_exports_yoy_pct": None,
        "goods_imports_usd": 1452 * B,  # (93 + 28) bn x 12
        "goods_exports_usd": 930 * B,  # (62 + 15.5) bn x 12
        "goods_balance_usd": -522 * B,
        "atp_imports_missing_cells": 0,
        "atp_exports_missing_cells": 0,
        "goods_imports_missing_cells": 0,
        "goods_exports_missing_cells": 0,
    }
    assert us[2025]["atp_imports_change_usd"] == pytest.approx((392.4 - 336) * B)
    assert us[2025]["atp_imports_yoy_pct"] == pytest.approx(100 * (392.4 / 336 - 1))
    assert us[2025]["atp_exports_yoy_pct"] == pytest.approx(100 * (193.2 / 186 - 1))
    assert us[2026]["months_covered"] == 9
    assert us[2026]["atp_imports_usd"] == 315_900_000_000
    assert us[2026]["atp_imports_yoy_pct"] == pytest.approx(100 * (315.9 / 294.3 - 1))
    assert us[2026]["atp_exports_yoy_pct"] == pytest.approx(100 * (154.8 / 144.9 - 1))


def test_category_year_monthly_and_groupings(db):
    info_comms = row(
        db,
        "SELECT * FROM marts.fct_atp_partner_category_year WHERE partner_code = ? AND year = 2025 AND hitech_code = '04'",
        MEXICO,
    )
    assert info_comms["imports_usd"] == 60 * B  # 50% of 120 bn
    assert info_comms["exports_usd"] == 26_400_000_000
    # U.S. group 04 imports a month: 5 + 4.5 + 1.5 (digital 50%) + 2.25 (Taiwan 30%)
    # + 0.2 + 0.12 (industrial 10%) = 13.57 bn
    assert info_comms["share_of_partner_atp_imports_pct"] == pytest.approx(50.0)
    assert info_comms["share_of_us_category_imports_pct"] == pytest.approx(100 * 5 / 13.57)
    assert info_comms["imports_yoy_pct"] == pytest.approx(25.0)  # 4 bn a month in 2024

    march = row(
        db,
        "SELECT imports_usd, exports_usd, balance_usd FROM marts.fct_atp_trade_monthly "
        "WHERE partner_code = ? AND hitech_code = '04' AND month_start = DATE '2025-03-01'",
        MEXICO,
    )
    assert march == {
        "imports_usd": 5 * B,
        "exports_usd": 2_200_000_000,
        "balance_usd": -2_800_000_000,
    }

    eu = row(
        db, "SELECT * FROM marts.fct_atp_grouping_year WHERE grouping_code = '0003' AND year = 2025"
    )
    assert eu["atp_imports_usd"] == 96 * B  # 4 x Germany
    assert eu["atp_imports_share_pct"] == pytest.approx(100 * 96 / 392.4)
    asia = row(
        db, "SELECT * FROM marts.fct_atp_grouping_year WHERE grouping_code = '5XXX' AND year = 2025"
    )
    assert asia["atp_imports_usd"] == 234 * B
    assert asia["atp_imports_yoy_pct"] == pytest.approx(100 * (234 / 204 - 1))


def test_dimensions(db):
    assert row(
        db,
        "SELECT partner_name, census_partner_name, partner_kind, region FROM marts.dim_partner "
        "WHERE partner_code = ?",
        MEXICO,
    ) == {
        "partner_name": "Mexico",  # as people write it; Census's capitals beside it
        "census_partner_name": "MEXICO",
        "partner_kind": "country",
        "region": "Mexico, Central America and Caribbean",  # Schedule C block 2xxx
    }
    categories = db.execute(
        "SELECT hitech_code, category_name FROM marts.dim_atp_category ORDER BY 1"
    ).fetchall()
    assert len(categories) == 10 and categories[3] == ("04", "Information & Communications")


def test_partner_year_columns_match_the_contract(db):
    columns = db.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'marts' AND table_name = 'fct_atp_partner_year' ORDER BY ordinal_position"
    ).fetchall()
    assert columns == [
        ("partner_code", "VARCHAR"),
        ("partner_name", "VARCHAR"),
        ("year", "INTEGER"),
        ("months_covered", "INTEGER"),
        ("atp_imports_usd", "BIGINT"),
        ("atp_exports_usd", "BIGINT"),
        ("atp_imports_missing_cells", "INTEGER"),
        ("atp_exports_missing_cells", "INTEGER"),
        ("atp_balance_usd", "BIGINT"),
        ("atp_imports_change_usd", "BIGINT"),
        ("atp_exports_change_usd", "BIGINT"),
        ("atp_imports_yoy_pct", "DOUBLE"),
        ("atp_exports_yoy_pct", "DOUBLE"),
        ("atp_imports_share_pct", "DOUBLE"),
        ("atp_exports_share_pct", "DOUBLE"),
        ("atp_imports_rank", "INTEGER"),
        ("atp_exports_rank", "INTEGER"),
        ("goods_imports_usd", "BIGINT"),
        ("goods_exports_usd", "BIGINT"),
        ("goods_imports_missing_cells", "INTEGER"),
        ("goods_exports_missing_cells", "INTEGER"),
        ("goods_trade_usd", "BIGINT"),
        ("goods_balance_usd", "BIGINT"),
        ("goods_imports_yoy_pct", "DOUBLE"),
        ("goods_trade_yoy_pct", "DOUBLE"),
        ("atp_share_of_goods_imports_pct", "DOUBLE"),
    ]


def test_atp_report_prints_the_top_partners_and_the_us_total(built, db, capsys):
    from orchestration.cli import main

    assert main(["report", "--year", "2025", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Top 3 sources of U.S. ATP imports, 2025 (YoY vs 2024")
    assert lines[1].split() == [
        "Rank",
        "Partner",
        "ATP",
        "$bn",
        "Change",
        "$bn",
        "YoY",
        "%",
        "Share",
        "%",
        "Balance",
        "$bn",
    ]
    assert lines[2].split() == [
        "1",
        "Mexico",
        "(2010)",
        "120.00",
        "+24.00",
        "+25.0",
        "30.6",
        "-67.20",
    ]
    assert lines[3].split() == [
        "2",
        "China",
        "(5700)",
        "108.00",
        "-36.00",
        "-25.0",
        "27.5",
        "-79.20",
    ]
    assert lines[4].split() == [
        "3",
        "Taiwan",
        "(5830)",
        "90.00",
        "+30.00",
        "+50.0",
        "22.9",
        "-66.00",
    ]
    assert lines[6].split() == [
        "United",
        "States,",
        "all",
        "partners",
        "392.40",
        "+56.40",
        "+16.8",
        "100.0",
        "-199.20",
    ]
    assert lines[-1].startswith("Source: API at 127.0.0.1, not the Census Bureau")


def test_atp_report_on_exports_and_a_partial_year(built, db, capsys):
    from orchestration.cli import main

    assert main(["report", "--year", "2026", "--flow", "exports", "--top", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        "Top 1 destination of U.S. ATP exports, 2026, Jan-Sep (YoY vs the same 9 months of 2025"
    )
    # Canada: 5.5 bn x 9 = 49.5 bn vs 45 bn; share of 154.8 bn; balance 49.5 - 10.8 = 38.7 bn
    assert lines[2].split() == [
        "1",
        "Canada",
        "(1220)",
        "49.50",
        "+4.50",
        "+10.0",
        "32.0",
        "+38.70",
    ]


def test_atp_report_errors_are_one_line(built, db, capsys, tmp_path, monkeypatch):
    from orchestration.cli import main

    assert main(["report", "--year", "2031"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("atp report: 2031 has no data yet:") and "runs through 2026" in err
    assert "\n" not in err
    assert main(["report", "--year", "2019"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("atp report: 2019 is not loaded in") and "2024-2026" in err
    assert "ATP_START_YEAR" in err
    monkeypatch.setenv("ATP_PUBLISHED", str(tmp_path / "missing.duckdb"))
    assert main(["report", "--year", "2025"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("atp report: no warehouse at") and "make run" in err and "\n" not in err


def test_dbt_unit_tests_pass(built, tmp_path):
    # Excluded from the production build (they test SQL logic, not data): run them here, on a
    # copy of the built warehouse (dbt needs the models' tables; the module holds the original open).
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built["settings"].warehouse, copy)
    done = subprocess.run(
        [
            Path(sys.executable).parent / "dbt",
            "test",
            "--select",
            "test_type:unit",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
        ],
        cwd=ROOT / "dbt_project",
        capture_output=True,
        text=True,
        env={**os.environ, "ATP_WAREHOUSE": str(copy)},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "PASS=11 " in done.stdout  # YoY, share, rank, revisions, missing cells, stories


def _observed(instance, key: list[str]) -> dict:
    """The metadata of the newest materialization of mart `key` (the dbt step reads the marts)."""
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    return event.asset_materialization.metadata


def test_the_marts_carry_row_count_newest_month_and_a_top_10_preview(built):
    instance = built["instance"]
    metadata = _observed(instance, ["marts", "fct_atp_partner_year"])
    assert metadata["dagster/row_count"].value == 5 + 6 + 6
    assert metadata["newest_month"].value == "2026-09"
    preview = metadata["top_10_atp_import_sources"].value
    assert "| 1 | Mexico (2010) | 120.00 | +24.00 | +25.0 | 30.6 | -67.20 |" in preview
    monthly = _observed(instance, ["marts", "fct_atp_trade_monthly"])
    assert monthly["newest_month"].value == "2026-09"
    # dbt's own materializations stream as they happen, each model once.
    built_models = instance.get_latest_materialization_event(
        dg.AssetKey(["marts", "fct_atp_partner_year"])
    )
    assert built_models is not None


def test_the_published_copy_keeps_the_contract_and_records_its_source(built):
    settings = built["settings"]
    with duckdb.connect(str(settings.published), read_only=True) as con:
        published = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'fct_atp_partner_year' "
            "ORDER BY ordinal_position"
        ).fetchall()
        source = con.execute("SELECT source_api, demo FROM main.publication").fetchall()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        working = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'marts' AND table_name = 'fct_atp_partner_year' "
            "ORDER BY ordinal_position"
        ).fetchall()
    assert published == working
    assert ("partner_code", "VARCHAR", "NO") in published  # the contract's NOT NULL survives
    assert source == [(built["api"].base_url, False)]
    assert "key" not in source[0][0].lower()
