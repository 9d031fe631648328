"""The numbers behind the HTML report, on the published fixture warehouse (2024, 2025, Jan-Sep
2026). Every expected value is worked out by hand from fake_census/fixtures.py: monthly
values are constant, so a year is 12 (or 9) times the monthly value. Amounts in $ billions.

Monthly ATP imports ($bn)   2024  2025  2026      exports  2024  2025  2026
  Mexico                       8    10    11                  4   4.4   4.4
  China                       12     9   8.1                  3   2.4   2.4
  Taiwan                       5   7.5     9                  2     2   2.5
  Germany                      2     2   2.2                1.5   1.8   1.8
  Canada                       1   1.2   1.2                  5     5   5.5
  Vietnam                      -     3   3.6                  -   0.5   0.6
  U.S. total                  28  32.7  35.1               15.5  16.1  17.2
"""

from __future__ import annotations

import duckdb
import pytest

from analyst import report_data as rd
from ingest.partner_names import display_name

approx = pytest.approx
B = 1e9


@pytest.fixture(scope="module")
def con(published):
    with duckdb.connect(str(published.published), read_only=True) as connection:
        yield connection


def test_display_names_are_title_cased_keeping_commas_and_hyphens():
    assert display_name("MEXICO") == "Mexico"
    assert display_name("KOREA, SOUTH") == "Korea, South"
    assert display_name("GUINEA-BISSAU") == "Guinea-Bissau"
    assert display_name("BOSNIA AND HERZEGOVINA") == "Bosnia and Herzegovina"
    assert display_name("CONGO (KINSHASA)") == "Congo (Kinshasa)"
    assert display_name("THE BAHAMAS") == "The Bahamas"
    assert display_name("BAHAMAS, THE") == "Bahamas, The"
    assert display_name("CONGO, DEMOCRATIC REPUBLIC OF THE") == "Congo, Democratic Republic of the"
    assert display_name("ISLE OF MAN") == "Isle of Man"
    assert display_name("Taiwan") == "Taiwan"  # already mixed case: left alone


def test_month_span():
    assert rd.month_span(1) == "Jan"
    assert rd.month_span(9) == "Jan-Sep"
    assert rd.month_span(12) == "Jan-Dec"


def test_data_through_and_the_latest_full_year(con):
    assert rd.data_through(con) == (2026, 9)
    assert rd.data_through_label(con) == "September 2026"
    assert rd.latest_full_year(con) == 2025  # 2026 covers 9 months
    assert rd.published_at(con).endswith(" UTC")


def test_data_through_without_a_publication_record_reads_the_monthly_mart(published):
    # The working warehouse has the marts but no main.publication table.
    with duckdb.connect(str(published.warehouse), read_only=True) as working:
        assert rd.data_through(working) == (2026, 9)
        assert rd.published_at(working) is None


def test_top_partners_table_2025(con):
    table = rd.top_partners(con, 2025)
    assert (table.year, table.flow, table.months_covered) == (2025, "imports", 12)
    rows = [
        (
            p["rank"],
            p["partner_name"],
            p["atp_imports_usd"] / B,
            None if p["atp_imports_change_usd"] is None else p["atp_imports_change_usd"] / B,
            p["atp_imports_yoy_pct"],
            p["atp_balance_usd"] / B,
        )
        for p in table.partners
    ]
    assert rows == [
        (1, "Mexico", approx(120.0), approx(24.0), approx(25.0), approx(52.8 - 120)),  # 96 -> 120
        (2, "China", approx(108.0), approx(-36.0), approx(-25.0), approx(28.8 - 108)),  # 144 ->
        (3, "Taiwan", approx(90.0), approx(30.0), approx(50.0), approx(24.0 - 90)),  # 60 ->
        (4, "Vietnam", approx(36.0), None, None, approx(6.0 - 36)),  # no 2024 trade: no base
        (5, "Germany", approx(24.0), approx(0.0), approx(0.0), approx(21.6 - 24)),
        (6, "Canada", approx(14.4), approx(2.4), approx(20.0), approx(60.0 - 14.4)),  # 12 ->
    ]
    # Shares of the U.S. total, 32.7 x 12 = 392.4 bn.
    shares = [p["atp_imports_share_pct"] for p in table.partners]
    assert shares == approx([100 * v / 392.4 for v in (120, 108, 90, 36, 24, 14.4)])
    us = table.us_total
    assert (us["rank"], us["partner_code"], us["partner_name"]) == (
        None,
        "TOTAL",
        "United States, all partners",
    )
    assert us["atp_imports_usd"] / B == approx(392.4)
    assert us["atp_imports_change_usd"] / B == approx(392.4 - 336.0)  # 2024: 28 x 12
    assert us["atp_imports_yoy_pct"] == approx(100 * (392.4 / 336 - 1))
    assert us["atp_imports_share_pct"] == 100.0
    assert us["atp_balance_usd"] / B == approx(193.2 - 392.4)  # exports 16.1 x 12


def test_top_n_limits_the_table(con):
    table = rd.top_partners(con, 2025, top=3)
    assert [p["partner_code"] for p in table.partners] == ["2010", "5700", "5830"]


def test_history_of_the_top_sources_covers_full_years_only(con):
    history = rd.top_sources_history(con, 2025)
    assert history["years"] == [2024, 2025]
    assert history["left_out"] is None  # it ends with 2025: Jan-Sep 2026 is not its period
    assert {s["name"]: s["values"] for s in history["series"]} == {
        "Mexico": approx([96.0, 120.0]),
        "China": approx([144.0, 108.0]),
        "Taiwan": approx([60.0, 90.0]),
        "Vietnam": [None, approx(36.0)],  # no 2024 rows
        "Germany": approx([24.0, 24.0]),
        "Canada": approx([12.0, 14.4]),
    }
    # In the latest full year's rank order (the legend's order).
    assert [s["code"] for s in history["series"]] == [
        "2010",
        "5700",
        "5830",
        "5520",
        "4280",
        "1220",
    ]


def test_history_ends_with_its_year(con):
    # 2024: one full year, no mover (nothing before it to move from)
    history = rd.top_sources_history(con, 2024)
    assert history["years"] == [2024] and history["mover"] is None
    assert [s["name"] for s in history["series"]] == [
        "China",
        "Mexico",
        "Taiwan",
        "Germany",
        "Canada",
    ]
    # Jan-Sep 2026: ranked on it, drawn up to 2025; 2026 left out (9 months would read as a fall)
    history = rd.top_sources_history(con, 2026)
    assert history["years"] == [2024, 2025] and history["left_out"] == (2026, 9)
    assert [s["name"] for s in history["series"]][:3] == ["Mexico", "Taiwan", "China"]


def test_import_shares_of_the_largest_sources_and_the_rest(con):
    shares = rd.import_shares(con, 2026)
    assert shares["years"] == [2024, 2025, 2026]
    assert shares["months"] == [12, 12, 9]  # 2026 is kept: a share compares the same months
    # The three largest of the newest year (Jan-Sep 2026: Mexico 99, Taiwan 81, China 72.9 bn),
    # taken from the data. U.S. totals: 336 (2024), 392.4 (2025), 35.1 x 9 = 315.9 (2026).
    assert [(s["code"], s["name"]) for s in shares["series"]] == [
        ("2010", "Mexico"),
        ("5830", "Taiwan"),
        ("5700", "China"),
        (None, "Rest of world"),
    ]
    assert {s["name"]: s["values"] for s in shares["series"]} == {
        "China": approx([100 * 144 / 336, 100 * 108 / 392.4, 100 * 72.9 / 315.9]),
        "Mexico": approx([100 * 96 / 336, 100 * 120 / 392.4, 100 * 99 / 315.9]),
        "Taiwan": approx([100 * 60 / 336, 100 * 90 / 392.4, 100 * 81 / 315.9]),
        # Germany + Canada (+ Vietnam from 2025): 24 + 12, 24 + 14.4 + 36, 19.8 + 10.8 + 32.4
        "Rest of world": approx([100 * 36 / 336, 100 * 74.4 / 392.4, 100 * 63 / 315.9]),
    }
    assert [round(s["values"][0], 1) for s in shares["series"]] == [28.6, 17.9, 42.9, 10.7]
    # Two: Mexico and Taiwan, and the rest.
    assert [s["name"] for s in rd.import_shares(con, 2026, top=2)["series"]] == [
        "Mexico",
        "Taiwan",
        "Rest of world",
    ]


def test_import_shares_end_with_their_year(con):
    # 2025's three largest (Mexico 120, China 108, Taiwan 90 bn), up to 2025: no 2026 in it.
    shares = rd.import_shares(con, 2025)
    assert (shares["years"], shares["months"]) == ([2024, 2025], [12, 12])
    assert {s["name"]: s["values"] for s in shares["series"]} == {
        "Mexico": approx([100 * 96 / 336, 100 * 120 / 392.4]),
        "China": approx([100 * 144 / 336, 100 * 108 / 392.4]),
        "Taiwan": approx([100 * 60 / 336, 100 * 90 / 392.4]),
        "Rest of world": approx([100 * 36 / 336, 100 * 74.4 / 392.4]),
    }
    assert [s["name"] for s in shares["series"]] == ["Mexico", "China", "Taiwan", "Rest of world"]


def test_the_history_highlights_the_top_three_and_the_biggest_mover(con):
    history = rd.top_sources_history(con, 2025)
    # Of Vietnam (0 -> 36 bn), Germany (24 -> 24) and Canada (12 -> 14.4): Vietnam.
    assert history["highlight"] == ["2010", "5700", "5830", "5520"]
    assert history["mover"] == {"code": "5520", "name": "Vietnam", "change_bn": approx(36.0)}
    assert rd.top_sources_history(con, 2025, leaders=5)["mover"]["name"] == "Canada"
    assert rd.top_sources_history(con, 2025, leaders=6)["mover"] is None


def test_group_mix_of_the_top_five(con):
    mix = rd.group_mix(con, 2025)
    assert [g["code"] for g in mix["groups"]] == [f"{i:02d}" for i in range(1, 11)]
    assert mix["groups"][3]["name"] == "Information & Communications"
    assert [p["name"] for p in mix["partners"]] == [
        "Mexico",
        "China",
        "Taiwan",
        "Vietnam",
        "Germany",
    ]
    mexico, taiwan, germany = (mix["partners"][i] for i in (0, 2, 4))
    # Mexico: the digital mix of 120 bn; group 04 is 50% = 60 bn.
    assert mexico["values_bn"][3] == approx(60.0)
    assert mexico["shares_pct"][3] == approx(50.0)
    assert mexico["values_bn"] == approx([2.4, 3.6, 6.0, 60.0, 24.0, 6.0, 6.0, 9.6, 1.2, 1.2])
    assert mexico["total_bn"] == approx(120.0)
    # Taiwan: the chips mix of 90 bn, no weapons (09) at all.
    assert taiwan["values_bn"] == approx([0.9, 0.9, 9.0, 27.0, 45.0, 2.7, 2.7, 0.9, 0.0, 0.9])
    assert taiwan["shares_pct"] == approx([1, 1, 10, 30, 50, 3, 3, 1, 0, 1])
    # Germany: the industrial mix of 24 bn.
    assert germany["values_bn"] == approx([2.4, 7.2, 1.2, 2.4, 2.4, 2.4, 1.2, 3.6, 0.72, 0.48])
    for partner in mix["partners"]:
        assert sum(partner["values_bn"]) == approx(partner["total_bn"])


def test_balances_with_the_top_sources(con):
    # The balance chart draws the table's partners.
    partners = rd.top_partners(con, 2025).partners
    assert [(display_name(p["partner_name"]), p["atp_balance_usd"] / B) for p in partners] == [
        ("Mexico", approx(-67.2)),  # 4.4 x 12 - 10 x 12
        ("China", approx(-79.2)),  # 28.8 - 108
        ("Taiwan", approx(-66.0)),  # 24 - 90
        ("Vietnam", approx(-30.0)),  # 6 - 36
        ("Germany", approx(-2.4)),  # 21.6 - 24
        ("Canada", approx(45.6)),  # 60 - 14.4: the one U.S. surplus
    ]


def test_year_to_date_against_the_same_months_of_last_year(con):
    ytd = rd.year_to_date(con, 2026)
    assert (ytd["year"], ytd["months"]) == (2026, 9)
    assert ytd["label"] == "Jan-Sep 2026 vs Jan-Sep 2025"
    # Ranked on Jan-Sep 2026: 9 x the 2026 monthly value against 9 x the 2025 one.
    assert [(p["name"], p["current_bn"], p["prior_bn"], p["yoy_pct"]) for p in ytd["partners"]] == [
        ("Mexico", approx(99.0), approx(90.0), approx(10.0)),
        ("Taiwan", approx(81.0), approx(67.5), approx(20.0)),
        ("China", approx(72.9), approx(81.0), approx(-10.0)),
        ("Vietnam", approx(32.4), approx(27.0), approx(20.0)),
        ("Germany", approx(19.8), approx(18.0), approx(10.0)),
        ("Canada", approx(10.8), approx(10.8), approx(0.0)),
    ]
    assert ytd["us"] == {
        "current_bn": approx(315.9),
        "prior_bn": approx(294.3),  # 32.7 x 9, not the full-year 392.4
        "yoy_pct": approx(100 * (315.9 / 294.3 - 1)),
    }
