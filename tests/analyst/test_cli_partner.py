"""`atp partner`: a partner's profile by code or name; ambiguous and unknown names. Values are
worked out by hand from fake_census/fixtures.py."""

from __future__ import annotations

import json

import pytest

from orchestration.cli import main

B = 1_000_000_000


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_partner_by_code_as_json(published, capsys):
    code, out, err = run(capsys, "partner", "2010", "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["partner"] == {
        "partner_code": "2010",
        "partner_name": "Mexico",  # the display form, beside the code
        "partner_kind": "country",
        "region": "Mexico, Central America and Caribbean",
        "first_year": 2024,
        "last_year": 2026,
    }
    assert doc["data_through"] == "2026-09"
    years = {y["year"]: y for y in doc["years"]}
    assert sorted(years) == [2024, 2025, 2026]
    y2025 = years[2025]
    assert y2025["months_covered"] == 12
    assert y2025["atp_imports_usd"] == 120 * B  # 10 bn x 12
    assert y2025["atp_imports_yoy_pct"] == pytest.approx(25.0)  # vs 8 bn x 12 = 96 bn
    assert y2025["atp_imports_share_pct"] == pytest.approx(100 * 120 / 392.4)
    assert y2025["atp_imports_rank"] == 1
    assert y2025["atp_exports_usd"] == 52_800_000_000  # 4.4 bn x 12
    assert y2025["atp_exports_yoy_pct"] == pytest.approx(10.0)  # vs 48 bn
    assert y2025["atp_exports_rank"] == 2  # Canada exports 60 bn
    assert y2025["atp_balance_usd"] == 52_800_000_000 - 120 * B
    # goods = ATP + non-ATP: imports (10 + 30) bn x 12, exports (4.4 + 22) bn x 12
    assert y2025["goods_imports_usd"] == 480 * B
    assert y2025["goods_exports_usd"] == 316_800_000_000
    assert y2025["goods_trade_usd"] == 796_800_000_000
    # 2026 is Jan-Sep: 11 bn x 9 = 99 bn vs 10 bn x 9 = 90 bn
    assert years[2026]["months_covered"] == 9
    assert years[2026]["atp_imports_usd"] == 99 * B
    assert years[2026]["atp_imports_yoy_pct"] == pytest.approx(10.0)
    assert years[2024]["atp_imports_yoy_pct"] is None  # no 2023 loaded
    # the ATP group mix of the latest full year (2025): MIX_DIGITAL, group 04 = 50%
    mix = doc["category_mix"]
    assert mix["year"] == 2025
    assert len(mix["categories"]) == 10
    first = mix["categories"][0]
    assert (first["hitech_code"], first["category_name"]) == ("04", "Information & Communications")
    assert first["imports_usd"] == 60 * B
    assert first["exports_usd"] == 26_400_000_000
    assert first["share_of_partner_atp_imports_pct"] == pytest.approx(50.0)
    aerospace = next(c for c in mix["categories"] if c["hitech_code"] == "08")
    assert aerospace["imports_usd"] == 9_600_000_000  # 8% of 120 bn


def test_partner_by_lower_case_name_as_text(published, capsys):
    code, out, err = run(capsys, "partner", "mexico")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Mexico (2010): country, Mexico, Central America and Caribbean")
    header = lines.index(next(line for line in lines if line.startswith("Year  Months")))
    assert lines[header + 1].split() == ("2024 12 96.00 n/a 28.6 2 48.00 n/a 25.8 2 -48.00".split())
    assert lines[header + 2].split() == (
        "2025 12 120.00 +25.0 30.6 1 52.80 +10.0 27.3 2 -67.20".split()
    )
    # exports flat (4.4 bn a month in both years): a YoY of exactly 0 has no sign
    assert lines[header + 3].split() == "2026 9 99.00 +10.0 31.3 1 39.60 0.0 25.6 2 -59.40".split()
    assert "ATP group mix, 2025 (latest full year)" in lines
    mix = lines.index("ATP group mix, 2025 (latest full year)")
    assert lines[mix + 2].split()[:5] == ["04", "Information", "&", "Communications", "60.00"]
    assert "Total goods trade (all commodities) by year" in lines
    assert lines[-1].startswith("Source: API at 127.0.0.1, not the Census Bureau")
    # the same partner whatever the case or punctuation of the name
    assert run(capsys, "partner", "MEXICO")[1] == out
    assert run(capsys, "partner", "  Mexico. ")[1] == out


def test_a_year_without_trade_and_a_unique_part_of_a_name(published, capsys):
    code, out, _ = run(capsys, "partner", "viet")  # Vietnam has no 2024 rows
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Vietnam (5520): country, Asia")
    assert "2024 12 - - - - - - - - -".split() in [line.split() for line in lines]
    assert any(line.split()[:4] == ["2025", "12", "36.00", "n/a"] for line in lines)


def test_a_grouping_has_no_rank_and_no_group_mix(published, capsys):
    code, out, _ = run(capsys, "partner", "european union", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["partner"]["partner_code"] == "0003"
    assert doc["partner"]["partner_kind"] == "grouping"
    y2025 = next(y for y in doc["years"] if y["year"] == 2025)
    assert y2025["atp_imports_usd"] == 96 * B  # 4 x Germany's 24 bn
    assert y2025["atp_imports_rank"] is None
    assert doc["category_mix"]["categories"] == []
    code, out, _ = run(capsys, "partner", "European", "Union")  # words need no quotes
    assert code == 0
    assert "not ranked" in out and "countries only" in out


def test_an_ambiguous_name_lists_the_candidates(published, capsys):
    code, out, err = run(capsys, "partner", "a")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("atp partner: 'a' matches 7 partners: ")
    for candidate in ("China (5700)", "Canada (1220)", "Taiwan (5830)", "Asia (5XXX)"):
        assert candidate in err
    assert "Mexico" not in err  # no 'a' in MEXICO


def test_an_unknown_name_or_code_lists_the_closest(published, capsys):
    code, out, err = run(capsys, "partner", "mexco")
    assert code == 2 and out == ""
    assert err.startswith("atp partner: no partner matches 'mexco' (closest: Mexico (2010))")
    assert err.count("\n") == 1
    code, _, err = run(capsys, "partner", "2011")  # codes match exactly
    assert code == 2 and "closest: Mexico (2010)" in err
    code, _, err = run(capsys, "partner", "Korea, South")
    assert code == 2 and err.startswith("atp partner: no partner matches 'Korea, South'")


def test_the_us_total_is_not_a_partner(published, capsys):
    code, out, err = run(capsys, "partner", "TOTAL")
    assert code == 2 and out == ""
    assert "U.S. total" in err and "atp report" in err


def test_partner_year_chooses_the_year_of_the_group_mix(published, capsys):
    code, out, err = run(capsys, "partner", "mexico", "--year", "2024", "--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["category_mix"]["year"] == 2024
    assert doc["category_mix"]["categories"]
    assert sorted(y["year"] for y in doc["years"]) == [2024, 2025, 2026]  # every year still
    code, out, err = run(capsys, "partner", "mexico")
    assert "ATP group mix, 2025 (latest full year)" in out
    code, out, err = run(capsys, "partner", "mexico", "--year", "2026")
    assert (code, err) == (0, "")
    assert "ATP group mix, 2026, Jan-Sep" in out


def test_partner_year_not_loaded_is_one_line(published, capsys):
    code, out, err = run(capsys, "partner", "mexico", "--year", "2019")
    assert (code, out) == (2, "")
    assert err.startswith("atp partner: 2019 is not loaded in ") and err.count("\n") == 1
