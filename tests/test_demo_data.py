"""The demo dataset (fake_census/realistic.py, `make demo`): calibrated to the published figures
of the API reference (section 15), reconciled like the real API, real partner codes and names,
2013 through the last released month, quick to build, served in the API's format."""

from __future__ import annotations

import re
import time
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from fake_census import FakeCensusApi, fixture_dataset, realistic_dataset
from fake_census.demo import demo_environment, next_steps
from fake_census.realistic import (
    COUNTRIES,
    FIRST_YEAR,
    GROUPINGS,
    RealisticDataset,
    last_released_month,
)
from ingest.client import CensusClient
from ingest.datasets import VALUE_COLUMN
from ingest.releases import newest_month_due
from ingest.settings import census_today

BN = 1e9
ATP_GROUPS = [f"{g:02d}" for g in range(1, 11)]
TOTAL_DESC = "TOTAL FOR ALL COMMODITIES"
COUNTRY_RE = re.compile(r"^[1-9]\d{3}$")

# Reference section 15: U.S. ATP imports by partner ($ billions), the U.S. totals, and the 2024
# year-over-year changes (%) published with them.
PUBLISHED_IMPORTS = {
    2024: {
        "CHINA": 112.37,
        "MEXICO": 102.48,
        "TAIWAN": 78.94,
        "IRELAND": 69.03,
        "GERMANY": 38.53,
    },
    2022: {
        "CHINA": 150.20,
        "MEXICO": 82.75,
        "TAIWAN": 44.85,
        "IRELAND": 42.46,
        "MALAYSIA": 30.38,
        "KOREA, SOUTH": 29.32,
        "GERMANY": 28.62,
        "JAPAN": 25.32,
        "THAILAND": 21.61,
        "CANADA": 16.97,
    },
}
PUBLISHED_YOY_2024 = {
    "CHINA": -5.7,
    "MEXICO": 35.2,
    "TAIWAN": 54.9,
    "IRELAND": 51.8,
    "GERMANY": 5.5,
}
PUBLISHED_US = {("imports", 2024): 763.24, ("imports", 2022): 634.62, ("exports", 2024): 464.29}
# The published story on Mexico, 2024 ($ billions and % on 2023): U.S. ATP exports to Mexico,
# the ATP deficit with Mexico, and U.S.-Mexico goods trade (all commodities) with the change of
# goods imports from Mexico.
STORY_MEXICO_2024 = {
    "atp_exports": 55.88,
    "atp_exports_yoy": 25.3,
    "atp_deficit": 46.60,
    "goods_trade": 839.89,
    "goods_trade_yoy": 5.3,
    "goods_imports_yoy": 6.4,
}
# The 2017 capture (section 15): all-goods general imports and the `00` row, in dollars.
CAPTURE_2017 = {"goods": 2_341_962_734_469, "non_atp": 1_877_323_381_198}

# Codes and names from the reference (section 9 table, upper-cased as the API spells them, and
# section 15's KOREA, SOUTH), and the grouping names of section 8.
REFERENCE_COUNTRIES = {
    "1220": "CANADA",
    "2010": "MEXICO",
    "5700": "CHINA",
    "5820": "HONG KONG",
    "5830": "TAIWAN",
    "5880": "JAPAN",
    "5800": "KOREA, SOUTH",
    "4120": "UNITED KINGDOM",
    "4190": "IRELAND",
    "4210": "NETHERLANDS",
    "4010": "SWEDEN",
    "4039": "NORWAY",
    "4050": "FINLAND",
    "2230": "COSTA RICA",
    "4231": "BELGIUM",
    "4239": "LUXEMBOURG",
    "4279": "FRANCE",
    "4280": "GERMANY",
    "4330": "AUSTRIA",
    "4351": "CZECH REPUBLIC",
    "4370": "HUNGARY",
    "4419": "SWITZERLAND",
    "4550": "POLAND",
    "4621": "RUSSIA",
    "4700": "SPAIN",
    "4710": "PORTUGAL",
    "4759": "ITALY",
    "4840": "GREECE",
    "4890": "TURKEY",
    "5490": "THAILAND",
    "5520": "VIETNAM",
    "5570": "MALAYSIA",
    "5590": "SINGAPORE",
    "5600": "INDONESIA",
    "5650": "PHILIPPINES",
    "5330": "INDIA",
    "5081": "ISRAEL",
    "5170": "SAUDI ARABIA",
    "5200": "UNITED ARAB EMIRATES",
    "6021": "AUSTRALIA",
    "6141": "NEW ZEALAND",
    "3510": "BRAZIL",
    "3570": "ARGENTINA",
    "3370": "CHILE",
    "3010": "COLOMBIA",
    "7910": "SOUTH AFRICA",
    "7790": "KENYA",
}
REFERENCE_GROUPINGS = {
    "0001": "OPEC",
    "0003": "EUROPEAN UNION",
    "0014": "PACIFIC RIM COUNTRIES",
    "0017": "CAFTA-DR",
    "0020": "USMCA (NAFTA)",
    "0021": "TWENTY LATIN AMERICAN REPUBLICS",
    "0022": "OECD",
    "0023": "NATO",
    "0024": "LAFTA",
    "0025": "EURO AREA",
    "0026": "APEC",
    "0027": "ASEAN",
    "0028": "CACM",
    "1XXX": "NORTH AMERICA",
    "2XXX": "CENTRAL AMERICA",
    "3XXX": "SOUTH AMERICA",
    "4XXX": "EUROPE",
    "5XXX": "ASIA",
    "6XXX": "AUSTRALIA AND OCEANIA",
    "7XXX": "AFRICA",
}


def last_released() -> tuple[int, int]:
    text = newest_month_due(census_today(), 40)
    return int(text[:4]), int(text[5:])


@cache
def dataset() -> RealisticDataset:
    return realistic_dataset()


@cache
def table(flow: str, year: int) -> tuple[dict, dict]:
    """({code: {hitech: [value per served month]}}, {code: name}) from the served rows."""
    values: dict[str, dict[str, list[int]]] = {}
    names: dict[str, str] = {}
    for row in dataset().rows(flow, year):
        values.setdefault(row["CTY_CODE"], {}).setdefault(row["HITECH"], []).append(row["value"])
        names[row["CTY_CODE"]] = row["CTY_NAME"]
    return values, names


def years() -> range:
    return range(FIRST_YEAR, last_released()[0] + 1)


def atp(flow: str, year: int, code: str) -> int:
    """Annual ATP (sum of groups 01..10) of one partner, in dollars."""
    by_hitech = table(flow, year)[0][code]
    return sum(sum(by_hitech[g]) for g in ATP_GROUPS)


def goods(flow: str, year: int, code: str) -> int:
    """Annual goods trade (the all-commodities row) of one partner, in dollars."""
    return sum(table(flow, year)[0][code]["-"])


def pct_change(new: int, old: int) -> float:
    return (new / old - 1) * 100


def code_of(name: str) -> str:
    return next(code for code, n in COUNTRIES.items() if n == name)


def ranked(flow: str, year: int) -> list[str]:
    """Country names by annual ATP, largest first."""
    values, names = table(flow, year)
    countries = [c for c in values if COUNTRY_RE.match(c)]
    return [names[c] for c in sorted(countries, key=lambda c: -atp(flow, year, c))]


# -- calibration (reference section 15) ------------------------------------------------------


@pytest.mark.parametrize("year", sorted(PUBLISHED_IMPORTS))
def test_partner_atp_imports_match_published_figures(year):
    for name, published_bn in PUBLISHED_IMPORTS[year].items():
        demo_bn = atp("imports", year, code_of(name)) / BN
        assert demo_bn == pytest.approx(published_bn, rel=0.005), (year, name)


@pytest.mark.parametrize(("flow", "year"), sorted(PUBLISHED_US))
def test_us_atp_totals_match_published_figures(flow, year):
    assert atp(flow, year, "-") / BN == pytest.approx(PUBLISHED_US[(flow, year)], rel=0.005)


def test_2024_ranking_share_and_growth_are_the_published_ones():
    assert ranked("imports", 2024)[:5] == list(PUBLISHED_IMPORTS[2024])  # China first
    assert ranked("imports", 2022)[:10] == list(PUBLISHED_IMPORTS[2022])
    mexico_share = atp("imports", 2024, "2010") / atp("imports", 2024, "-") * 100
    assert mexico_share == pytest.approx(13.4, abs=0.05)
    for name, yoy in PUBLISHED_YOY_2024.items():
        code = code_of(name)
        demo_yoy = (atp("imports", 2024, code) / atp("imports", 2023, code) - 1) * 100
        assert demo_yoy == pytest.approx(yoy, abs=0.1), name


def test_mexico_2024_matches_the_published_story():
    mexico, story = code_of("MEXICO"), STORY_MEXICO_2024
    imports, exports = atp("imports", 2024, mexico), atp("exports", 2024, mexico)
    # Already in the story's first lines: $102.48 billion, +35.2%, 13.4% of $763.24 billion.
    assert imports == 102_480_000_000
    assert round(pct_change(imports, atp("imports", 2023, mexico)), 1) == 35.2
    # U.S. ATP exports to Mexico: $55.88 billion, +25.3% on 2023.
    assert round(exports / BN, 2) == story["atp_exports"]
    assert exports == 55_880_000_000
    assert round(pct_change(exports, atp("exports", 2023, mexico)), 1) == story["atp_exports_yoy"]
    # The ATP deficit with Mexico: $46.6 billion (102.48 - 55.88).
    assert round((imports - exports) / BN, 2) == story["atp_deficit"]
    assert imports - exports == 46_600_000_000
    # U.S.-Mexico goods trade: $839.89 billion, +5.3%; goods imports from Mexico +6.4%.
    trade = {y: goods("imports", y, mexico) + goods("exports", y, mexico) for y in (2023, 2024)}
    assert round(trade[2024] / BN, 2) == story["goods_trade"]
    assert trade[2024] == 839_890_000_000
    assert round(pct_change(trade[2024], trade[2023]), 1) == story["goods_trade_yoy"]
    goods_imports_yoy = pct_change(goods("imports", 2024, mexico), goods("imports", 2023, mexico))
    assert round(goods_imports_yoy, 1) == story["goods_imports_yoy"]
    # Mexico stays second only to China among the sources of U.S. ATP imports, and the
    # U.S. ATP export total is still the published one.
    assert ranked("imports", 2024)[:2] == ["CHINA", "MEXICO"]
    assert atp("exports", 2024, "-") == 464_290_000_000


def test_2017_goods_and_non_atp_imports_match_the_capture():
    us = table("imports", 2017)[0]["-"]
    assert sum(us["-"]) == CAPTURE_2017["goods"]
    assert sum(us["00"]) == CAPTURE_2017["non_atp"]
    assert atp("imports", 2017, "-") / BN == pytest.approx(464.64, rel=0.005)


# -- reconciliation ---------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["imports", "exports"])
def test_total_is_00_plus_groups_and_us_is_the_sum_of_countries(flow):
    for year in years():
        values, _ = table(flow, year)
        n_months = dataset().months(year)
        countries = [c for c in values if COUNTRY_RE.match(c)]
        assert sorted(countries) == sorted(COUNTRIES)
        for code, by_hitech in values.items():
            assert set(by_hitech) == {"-", "00", *ATP_GROUPS}, (year, code)
            for m in range(n_months):
                parts = by_hitech["00"][m] + sum(by_hitech[g][m] for g in ATP_GROUPS)
                assert by_hitech["-"][m] == parts, (flow, year, code, m + 1)
                assert min(v[m] for v in by_hitech.values()) >= 0
        for hitech in values["-"]:
            for m in range(n_months):
                us = values["-"][hitech][m]
                assert us == sum(values[c][hitech][m] for c in countries), (year, hitech, m)
        for grp, (_, members) in GROUPINGS.items():
            present = [c for c, (start, end) in members.items() if start <= year <= end]
            assert present, (grp, year)
            for m in range(n_months):
                assert values[grp]["-"][m] == sum(values[c]["-"][m] for c in present)
                assert values[grp]["05"][m] == sum(values[c]["05"][m] for c in present)


# -- codes, names, years ------------------------------------------------------------------------


def test_partners_are_real_codes_with_census_names():
    values, names = table("imports", 2024)
    assert len(COUNTRIES) >= 55
    for code, name in COUNTRIES.items():
        assert COUNTRY_RE.match(code) and names[code] == name
        assert name == name.upper() and not re.search(r"COUNTRY|\d", name), name
    assert len(set(COUNTRIES.values())) == len(COUNTRIES)
    assert {c: COUNTRIES[c] for c in REFERENCE_COUNTRIES} == REFERENCE_COUNTRIES
    assert {g: n for g, (n, _) in GROUPINGS.items()} == REFERENCE_GROUPINGS
    assert names["-"] == "TOTAL FOR ALL COUNTRIES"
    assert set(values) == {"-", *REFERENCE_GROUPINGS, *COUNTRIES}


def test_years_run_from_2013_to_the_last_released_month():
    last_year, last_month = last_released()
    ds = dataset()
    assert (ds.last_year, ds.last_month) == (last_year, last_month)
    assert ds.rows("imports", FIRST_YEAR - 1) is None
    assert ds.rows("exports", last_year + 1) is None
    for flow in ("imports", "exports"):
        for year in years():
            months = {row["month"] for row in ds.rows(flow, year)}
            assert months == set(range(1, (last_month if year == last_year else 12) + 1))
    # The day this was written: Census had released September 2026 by 2026-11-30.
    assert last_released_month(date(2026, 11, 30)) == (2026, 9)
    assert last_released_month(date(2026, 11, 8)) == (2026, 8)


def test_rows_have_the_fixture_format():
    demo_row = dataset().rows("imports", 2024)[0]
    fixture_row = fixture_dataset().rows("imports", 2025)[0]
    assert list(demo_row) == list(fixture_row)
    assert (demo_row["CTY_CODE"], demo_row["HITECH"], demo_row["HITECH_DESC"]) == (
        "-",
        "-",
        TOTAL_DESC,
    )


# -- plausibility -------------------------------------------------------------------------------


def test_trends_and_shares_are_plausible():
    def share(name, year):
        return atp("imports", year, code_of(name)) / atp("imports", year, "-")

    assert share("CHINA", 2018) > 0.25  # China's share falls after 2018
    assert share("CHINA", 2018) > share("CHINA", 2022) > share("CHINA", 2024) > share("CHINA", 2025)
    for name in ("MEXICO", "TAIWAN", "VIETNAM"):
        assert share(name, 2024) > 1.25 * share(name, 2018), name  # rising partners
    for flow in ("imports", "exports"):
        for year in range(FIRST_YEAR, 2026):
            us = table(flow, year)[0]["-"]
            atp_share = 1 - sum(us["00"]) / sum(us["-"])
            assert 0.15 < atp_share < 0.30, (flow, year, atp_share)
            monthly_atp = [t - n for t, n in zip(us["-"], us["00"], strict=True)]
            assert max(monthly_atp) < 1.6 * min(monthly_atp), (flow, year)  # seasonal, no jumps
            assert len(set(monthly_atp)) == 12
    goods_2024 = sum(table("imports", 2024)[0]["-"]["-"]) / BN
    assert 3000 < goods_2024 < 3500  # U.S. general imports of goods, 2024: about $3.3 trillion


def test_deterministic_and_quick():
    start = time.perf_counter()
    fresh = RealisticDataset()
    n_rows = sum(len(fresh.rows(f, y)) for f in ("imports", "exports") for y in years())
    elapsed = time.perf_counter() - start
    assert n_rows > 300_000
    assert elapsed < 8, f"{elapsed:.1f} s to build every row (about 0.5 s on an idle machine)"
    assert fresh.rows("exports", 2019) == dataset().rows("exports", 2019)


# -- served by the fake API, read by the real client --------------------------------------------


def test_the_client_fetches_a_demo_year_from_the_fake_api():
    with FakeCensusApi(dataset()) as api:
        fetched = CensusClient(api.base_url, "demo").fetch_year("imports", 2024)
    assert fetched.released and len(fetched.table.months) == 12
    header = fetched.table.columns
    value_at, code_at, hitech_at = (
        header.index(c) for c in (VALUE_COLUMN["imports"], "CTY_CODE", "HITECH")
    )
    china = sum(
        int(row[value_at])
        for row in fetched.table.rows
        if row[code_at] == "5700" and row[hitech_at] in ATP_GROUPS
    )
    assert china / BN == pytest.approx(112.37, rel=0.005)


def test_demo_environment_points_everything_into_the_demo_folder(tmp_path):
    env = demo_environment(
        "http://127.0.0.1:1/data/timeseries/intltrade",
        tmp_path / "demo",
        {"CENSUS_API_KEY": "a-real-key", "ATP_WAREHOUSE": "data/warehouse.duckdb", "PATH": "/bin"},
    )
    folder = tmp_path / "demo"
    assert env["CENSUS_API_KEY"] == "demo" and env["ATP_DEMO"] == "1"
    assert env["ATP_START_YEAR"] == "2013" and env["PATH"] == "/bin"
    for name in (
        "ATP_WAREHOUSE",
        "ATP_LANDING_DIR",
        "ATP_PUBLISHED",
        "ATP_REPORT_DIR",
        "DAGSTER_HOME",
    ):
        assert Path(env[name]).is_absolute() and Path(env[name]).parent == folder, name
    text = next_steps(folder, 2024)
    assert f"ATP_PUBLISHED={folder / 'atp.duckdb'}" in text and "report --year 2024" in text
    assert f"{folder / 'report'}/index.html" in text
