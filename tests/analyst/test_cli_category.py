"""`atp category`: the top partners within one ATP group, by code or name. Values are worked out
by hand from fake_census/fixtures.py (each country's ATP split by its group mix)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from orchestration.cli import main

# 2025 aerospace (08) imports, bn: Mexico 120 x 8% = 9.6, China 108 x 8% = 8.64, Germany
# 24 x 15% = 3.6, Vietnam 36 x 8% = 2.88, Canada 14.4 x 15% = 2.16, Taiwan 90 x 1% = 0.9.
AEROSPACE_2025 = 27.78


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_category_by_code_as_text(published, capsys):
    code, out, err = run(capsys, "category", "08", "--year", "2025", "--top", "3")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "Top 3 sources of U.S. Aerospace (08) imports, 2025 (YoY vs 2024; balance = exports - imports)"
    )
    assert lines[1].split()[:4] == ["Rank", "Partner", "Imports", "$bn"]
    # Mexico: 9.6 bn vs 7.68 bn (+25%), 34.6% of 27.78 bn, 8% of its ATP; exports 4.4 x 12 x 8%
    assert lines[2].split() == "1 Mexico (2010) 9.60 +1.92 +25.0 34.6 8.0 -5.38".split()
    assert lines[3].split() == "2 China (5700) 8.64 -2.88 -25.0 31.1 8.0 -6.34".split()
    # Germany: no change at all, so no sign
    assert lines[4].split() == "3 Germany (4280) 3.60 0.00 0.0 13.0 15.0 -0.36".split()
    # (9.6 + 8.64 + 3.6) / 27.78 = 78.6%
    assert "The 3 partners shown hold 78.6% of U.S. Aerospace imports." in lines
    # the fixture comes from the fake API on 127.0.0.1: the source line says so
    assert lines[-1].startswith("Source: API at 127.0.0.1, not the Census Bureau")


def test_category_by_name_code_number_and_unique_part(published, capsys):
    by_code = run(capsys, "category", "08", "--year", "2025")[1]
    for name in ("aerospace", "AEROSPACE", "8", "aero"):
        code, out, _ = run(capsys, "category", name, "--year", "2025")
        assert code == 0 and out == by_code


def test_category_as_json_and_csv(published, capsys):
    code, out, _ = run(capsys, "category", "aerospace", "--year", "2025", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["hitech_code"], doc["category_name"], doc["year"]) == ("08", "Aerospace", 2025)
    assert [p["partner_code"] for p in doc["partners"]] == [
        "2010",
        "5700",
        "4280",
        "5520",
        "1220",
        "5830",
    ]
    mexico = doc["partners"][0]
    assert mexico["rank"] == 1
    assert mexico["imports_usd"] == 9_600_000_000
    assert mexico["imports_change_usd"] == 1_920_000_000
    assert mexico["share_of_us_category_imports_pct"] == pytest.approx(100 * 9.6 / AEROSPACE_2025)
    assert mexico["share_of_partner_atp_imports_pct"] == pytest.approx(8.0)
    assert doc["partners"][3]["imports_yoy_pct"] is None  # Vietnam: no 2024 base

    # exports, 2025: Canada 5 bn x 12 x 15% = 9 bn (as in 2024), Mexico 4.4 x 12 x 8% = 4.224 bn
    code, out, _ = run(
        capsys, "category", "aerospace", "--year", "2025", "--flow", "exports", "--top", "2",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0
    canada, mexico = csv.DictReader(io.StringIO(out))
    assert (canada["partner_code"], canada["rank"]) == ("1220", "1")
    assert int(canada["exports_usd"]) == 9_000_000_000
    assert float(canada["exports_yoy_pct"]) == 0.0
    assert int(mexico["exports_usd"]) == 4_224_000_000
    assert float(mexico["exports_yoy_pct"]) == pytest.approx(10.0)
    assert int(mexico["exports_change_usd"]) == 384_000_000
    assert canada["hitech_code"] == "08" and canada["months_covered"] == "12"


def test_ambiguous_and_unknown_groups(published, capsys):
    code, out, err = run(capsys, "category", "tech", "--year", "2025")
    assert code == 2 and out == ""
    assert err == (
        "atp category: 'tech' matches 2 ATP groups: Biotechnology (01), Nuclear Technology (10). "
        "Give the code or more of the name.\n"
    )
    # an exact name wins over a part of another: Electronics, not Opto-Electronics
    code, out, _ = run(capsys, "category", "electronics", "--year", "2025", "--top", "1")
    assert code == 0 and "Electronics (05)" in out.splitlines()[0]
    code, _, err = run(capsys, "category", "aerospase", "--year", "2025")
    assert code == 2 and "closest: Aerospace (08)" in err and err.count("\n") == 1
    code, _, err = run(capsys, "category", "00", "--year", "2025")
    assert code == 2 and "not an ATP group code (01-10)" in err and "08 Aerospace" in err
