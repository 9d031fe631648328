"""`atp report` in every format, on the published fixture warehouse. Expected values are worked
out by hand from fake_census/fixtures.py (monthly values are constant within a year)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from orchestration.cli import main

B = 1_000_000_000
# 2025 imports: (10 + 9 + 7.5 + 2 + 1.2 + 3) bn x 12 months = 392.4 bn; 2024: 28 bn x 12 = 336 bn.
US_IMPORTS_2025 = 392_400_000_000
US_EXPORTS_2025 = 193_200_000_000  # (4.4 + 2.4 + 2 + 1.8 + 5 + 0.5) bn x 12


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_is_todays_aligned_text(published, capsys):
    code, out, err = run(capsys, "report", "--year", "2025", "--top", "2")
    assert (code, err) == (0, "")
    assert out == (
        "Top 2 sources of U.S. ATP imports, 2025 (YoY vs 2024; balance = exports - imports)\n"
        "Rank  Partner                      ATP $bn  Change $bn  YoY %  Share %  Balance $bn\n"
        "   1  Mexico (2010)                 120.00      +24.00  +25.0     30.6       -67.20\n"
        "   2  China (5700)                  108.00      -36.00  -25.0     27.5       -79.20\n"
        "----  ---------------------------  -------  ----------  -----  -------  -----------\n"
        "      United States, all partners   392.40      +56.40  +16.8    100.0      -199.20\n"
        "Source: API at 127.0.0.1, not the Census Bureau (advanced technology products).\n"
    )


def test_csv_has_full_precision_dollars_and_percent(published, capsys):
    code, out, _ = run(capsys, "report", "--year", "2025", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "year",
        "months_covered",
        "rank",
        "partner_code",
        "partner_name",
        "atp_imports_usd",
        "atp_imports_change_usd",
        "atp_imports_yoy_pct",
        "atp_imports_share_pct",
        "atp_balance_usd",
    ]
    assert [r["partner_code"] for r in rows] == [
        "2010",
        "5700",
        "5830",
        "5520",
        "4280",
        "1220",
        "TOTAL",
    ]
    mexico, vietnam, total = rows[0], rows[3], rows[-1]
    assert (mexico["year"], mexico["months_covered"], mexico["rank"]) == ("2025", "12", "1")
    assert mexico["partner_name"] == "Mexico"  # display form, beside the code
    assert int(mexico["atp_imports_usd"]) == 120 * B
    assert int(mexico["atp_imports_change_usd"]) == 24 * B
    assert float(mexico["atp_imports_yoy_pct"]) == pytest.approx(25.0)
    # full precision: 100 * 120 / 392.4 = 30.58103975...
    assert float(mexico["atp_imports_share_pct"]) == pytest.approx(100 * 120 / 392.4, rel=1e-12)
    assert len(mexico["atp_imports_share_pct"]) > 10
    assert int(mexico["atp_balance_usd"]) == 52_800_000_000 - 120 * B
    # Vietnam has no 2024 rows: no base, so no change and no YoY (empty fields)
    assert vietnam["atp_imports_yoy_pct"] == vietnam["atp_imports_change_usd"] == ""
    assert total["rank"] == ""
    assert int(total["atp_imports_usd"]) == US_IMPORTS_2025
    assert int(total["atp_imports_change_usd"]) == US_IMPORTS_2025 - 336 * B
    assert float(total["atp_imports_yoy_pct"]) == pytest.approx(100 * (392.4 / 336 - 1))
    assert float(total["atp_imports_share_pct"]) == 100.0
    assert int(total["atp_balance_usd"]) == US_EXPORTS_2025 - US_IMPORTS_2025


def test_csv_exports_of_a_partial_year_derive_the_exact_change(published, capsys):
    code, out, _ = run(
        capsys, "report", "--year", "2026", "--flow", "exports", "--top", "1", "--format", "csv"
    )
    assert code == 0
    canada, total = list(csv.DictReader(io.StringIO(out)))
    # Canada Jan-Sep: 5.5 bn x 9 = 49.5 bn vs 5 bn x 9 = 45 bn; share of 17.2 bn x 9 = 154.8 bn
    assert canada["months_covered"] == "9"
    assert (canada["partner_code"], canada["rank"]) == ("1220", "1")
    assert int(canada["atp_exports_usd"]) == 49_500_000_000
    assert int(canada["atp_exports_change_usd"]) == 4_500_000_000
    assert float(canada["atp_exports_yoy_pct"]) == pytest.approx(10.0)
    assert float(canada["atp_exports_share_pct"]) == pytest.approx(100 * 49.5 / 154.8)
    assert int(total["atp_exports_usd"]) == 154_800_000_000


def test_json_document(published, capsys):
    code, out, _ = run(capsys, "report", "--year", "2025", "--top", "3", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["year"], doc["flow"], doc["months_covered"]) == (2025, "imports", 12)
    assert doc["title"].startswith("Top 3 sources of U.S. ATP imports, 2025")
    assert [p["partner_code"] for p in doc["partners"]] == ["2010", "5700", "5830"]
    assert doc["partners"][0] == {
        "rank": 1,
        "partner_code": "2010",
        "partner_name": "Mexico",
        "atp_imports_usd": 120 * B,
        "atp_imports_change_usd": 24 * B,
        "atp_imports_yoy_pct": pytest.approx(25.0),
        "atp_imports_share_pct": pytest.approx(100 * 120 / 392.4, rel=1e-12),
        "atp_balance_usd": -67_200_000_000,
    }
    taiwan = doc["partners"][2]
    assert taiwan["atp_imports_usd"] == 90 * B and taiwan["atp_imports_yoy_pct"] == 50.0
    assert isinstance(taiwan["atp_imports_usd"], int)
    assert doc["us_total"]["partner_code"] == "TOTAL" and doc["us_total"]["rank"] is None
    assert doc["us_total"]["atp_imports_usd"] == US_IMPORTS_2025
    assert doc["source"].startswith("Source: API at 127.0.0.1, not the Census Bureau")


def test_one_partner_is_singular(published, capsys):
    code, out, _ = run(capsys, "report", "--year", "2025", "--top", "1")
    assert code == 0
    assert out.startswith("Top 1 source of U.S. ATP imports, 2025 (")
    code, out, _ = run(capsys, "report", "--year", "2025", "--top", "1", "--flow", "exports")
    assert out.startswith("Top 1 destination of U.S. ATP exports, 2025 (")


def test_markdown_is_a_github_table(published, capsys):
    code, out, _ = run(capsys, "report", "--year", "2025", "--top", "2", "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "**Top 2 sources of U.S. ATP imports, 2025 (YoY vs 2024; balance = exports - imports)**"
    )
    assert lines[2:7] == [
        "| Rank | Partner | ATP $bn | Change $bn | YoY % | Share % | Balance $bn |",
        "| ---: | :--- | ---: | ---: | ---: | ---: | ---: |",
        "| 1 | Mexico (2010) | 120.00 | +24.00 | +25.0 | 30.6 | -67.20 |",
        "| 2 | China (5700) | 108.00 | -36.00 | -25.0 | 27.5 | -79.20 |",
        "|  | **United States, all partners** | **392.40** | **+56.40** | **+16.8** | **100.0** "
        "| **-199.20** |",
    ]
    assert lines[-1].startswith("Source: API at 127.0.0.1, not the Census Bureau")
