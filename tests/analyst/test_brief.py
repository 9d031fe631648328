"""`atp brief` and the marts behind it (fct_atp_partner_contribution_year, fct_atp_partner_t12m,
fct_atp_partner_share_shift_year), the story panel of the HTML report and `atp html --partner`,
on the published fixture warehouse (2024, 2025, Jan-Sep 2026).

Every expected value is worked out by hand from fake_census/fixtures.py: monthly values are
constant within a year, so a year is 12 (or 9) times the monthly value. Amounts in $ billions.

Monthly ATP imports ($bn)   2024  2025  2026      exports  2024  2025  2026
  Mexico                       8    10    11                  4   4.4   4.4
  China                       12     9   8.1                  3   2.4   2.4
  Taiwan                       5   7.5     9                  2     2   2.5
  Germany                      2     2   2.2                1.5   1.8   1.8
  Canada                       1   1.2   1.2                  5     5   5.5
  Vietnam                      -     3   3.6                  -   0.5   0.6
  U.S. total                  28  32.7  35.1               15.5  16.1  17.2
Non-ATP (HITECH 00), every year: Mexico imports 30, exports 22 a month.
ATP groups: a fixed split of each country's ATP (MIX_DIGITAL for Mexico and China: group 04 50%,
05 20%, 08 8%, 03/06/07 5%, 02 3%, 01 2%, 09/10 1%), so every group moves with the country's ATP
and contributes (its share of the mix) x (the country's YoY %) points.

Python formats an exact half to the even digit: 1.25 -> '1.2', 0.75 -> '0.8', 3.75 -> '3.8'.
"""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from analyst.brief import Brief, grouping_words, sentences
from analyst.formats import bn, pct
from analyst.html_report import write_html_report
from analyst.queries import Partner
from orchestration.cli import main

B = 1_000_000_000
approx = pytest.approx


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def con(published):
    """The published copy, opened for each query only: the `atp` commands run in this process
    open it too (DuckDB refuses a second connection with another configuration)."""
    return published.published


def rows(path, sql, *params):
    with duckdb.connect(str(path), read_only=True) as connection:
        cursor = connection.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- the words --------------------------------------------------------------------------------


def test_markdown_brief_of_a_full_year(published, con, capsys):
    code, out, err = run(capsys, "brief", "mexico", "--year", "2025")
    assert (code, err) == (0, "")
    (publication,) = rows(con, "SELECT published_at FROM main.publication")
    stamp = publication["published_at"]
    assert out == (
        "## Mexico (2010): trade in advanced technology products with the U.S., 2025\n"
        "\n"
        # 120 bn (10 x 12) vs 96 bn (8 x 12); U.S. 392.4 bn; 120 / 392.4 = 30.58%; China second
        "Mexico's ATP exports to the U.S. rose 25.0% (+$24.00 billion) in 2025 to $120.00 "
        "billion, a 30.6% share of the $392.40 billion U.S. market, ranking first, ahead of "
        "China ($108.00 billion, -25.0%).\n"
        "\n"
        "- Year over year compares the same months: 2025 against 2024.\n"
        # 96 / 336 = 28.57% -> 30.58%: +2.01 points
        "- Mexico's share of the U.S. market rose 2.0 points, from 28.6% in 2024 to 30.6% in "
        "2025.\n"
        # exports 4.4 x 12 = 52.8 vs 48 bn; balance 52.8 - 120
        "- Mexico's ATP imports from the U.S. rose 10.0% (+$4.80 billion) to $52.80 billion; "
        "the U.S. ATP balance with Mexico (U.S. exports minus imports) was a deficit of $67.20 "
        "billion.\n"
        # (30 + 10) x 12 + (22 + 4.4) x 12 = 796.8 vs 456 + 312 = 768 (+3.75%); 120 / 480
        "- Total goods trade between the U.S. and Mexico came to $796.80 billion (imports plus "
        "exports), up 3.8%; ATP made up 25.0% of Mexico's goods exports to the U.S.\n"
        "- U.S. ATP trade with all partners in 2025: imports $392.40 billion, exports $193.20 "
        "billion, a deficit of $199.20 billion.\n"
        "\n"
        "### What drove the change\n"
        "\n"
        # group 04: 50% of +24 bn = +12 bn = 12.5 points of the 25%
        "Of the 25.0% rise, Information & Communications contributed +12.5 points (+$12.00 "
        "billion), Electronics +5.0 points (+$4.80 billion) and Aerospace +2.0 points (+$1.92 "
        "billion).\n"
        "\n"
        "| Code | ATP group | Change $bn | Points | Group YoY % | 2025 $bn |\n"
        "| :--- | :--- | ---: | ---: | ---: | ---: |\n"
        "| 04 | Information & Communications | +12.00 | +12.5 | +25.0 | 60.00 |\n"
        "| 05 | Electronics | +4.80 | +5.0 | +25.0 | 24.00 |\n"
        "| 08 | Aerospace | +1.92 | +2.0 | +25.0 | 9.60 |\n"
        "| 03 | Opto-Electronics | +1.20 | +1.2 | +25.0 | 6.00 |\n"
        "| 06 | Flexible Manufacturing | +1.20 | +1.2 | +25.0 | 6.00 |\n"
        "| 07 | Advanced Materials | +1.20 | +1.2 | +25.0 | 6.00 |\n"
        "| 02 | Life Science | +0.72 | +0.8 | +25.0 | 3.60 |\n"
        "| 01 | Biotechnology | +0.48 | +0.5 | +25.0 | 2.40 |\n"
        "| 09 | Weapons | +0.24 | +0.2 | +25.0 | 1.20 |\n"
        "| 10 | Nuclear Technology | +0.24 | +0.2 | +25.0 | 1.20 |\n"
        "\n"
        "Points: the group's change / Mexico's ATP exports to the U.S. in 2024, x 100; they add "
        "up to its +25.0% YoY.\n"
        "\n"
        "### Which products\n"
        "\n"
        # the fake shares each group among the list's codes by fixed weights (fake_census/products.py)
        "The 3 products that moved most, of the 10-digit codes on the 2025 ATP list: machines for "
        "reception, conversion and transmission of data, nesoi (8517620090, Information & "
        "Communications) +$5.60 billion (+5.8 points), processing units for automatic data "
        "processing machines, nesoi (8471500150, Information & Communications) +$3.20 billion "
        "(+3.3 points) and electronic integrated circuits: processors and controllers "
        "(8542310000, Electronics) +$2.40 billion (+2.5 points).\n"
        "\n"
        "| Code | Product | ATP group | Change $bn | Points | YoY % | 2025 $bn |\n"
        "| :--- | :--- | :--- | ---: | ---: | ---: | ---: |\n"
        "| 8517620090 | MACHINES FOR RECEPTION, CONVERSION AND TRANSMISSION OF DATA, NESOI | "
        "Information & Communications | +5.60 | +5.8 | +25.0 | 28.00 |\n"
        "| 8471500150 | PROCESSING UNITS FOR AUTOMATIC DATA PROCESSING MACHINES, NESOI | "
        "Information & Communications | +3.20 | +3.3 | +25.0 | 16.00 |\n"
        "| 8542310000 | ELECTRONIC INTEGRATED CIRCUITS: PROCESSORS AND CONTROLLERS | Electronics "
        "| +2.40 | +2.5 | +25.0 | 12.00 |\n"
        "\n"
        "All of them: `atp products 2010 --year 2025 --flow imports`.\n"
        "\n"
        "### Top 5 ATP exporters to the U.S., 2025\n"
        "\n"
        "| Rank | Partner | ATP $bn | Change $bn | YoY % | Share % |\n"
        "| ---: | :--- | ---: | ---: | ---: | ---: |\n"
        "| 1 | Mexico (2010) | 120.00 | +24.00 | +25.0 | 30.6 |\n"
        "| 2 | China (5700) | 108.00 | -36.00 | -25.0 | 27.5 |\n"
        "| 3 | Taiwan (5830) | 90.00 | +30.00 | +50.0 | 22.9 |\n"
        "| 4 | Vietnam (5520) | 36.00 | n/a | n/a | 9.2 |\n"
        # Germany: 2 x 12 both years (a zero change as analyst.formats shows one)
        f"| 5 | Germany (4280) | 24.00 | {bn(0, sign=True)} | {pct(0.0)} | 6.1 |\n"
        "\n"
        "---\n"
        "\n"
        # the fixture comes from the fake API on 127.0.0.1, and the source line says so
        "Source: API at 127.0.0.1, not the Census Bureau (advanced technology products).  \n"
        f"Data through September 2026; published {stamp:%Y-%m-%d %H:%M} UTC.  \n"
        "Figures from the published marts: the partner's ATP, share, rank, the other direction, "
        "goods and the top 5: marts.fct_atp_partner_year; U.S. totals: marts.fct_us_atp_year; "
        "share shift: marts.fct_atp_partner_share_shift_year; what drove the change: "
        "marts.fct_atp_partner_contribution_year; which products: marts.fct_atp_product_year.\n"
    )


def test_a_year_in_progress_is_compared_over_the_same_months(published, capsys):
    code, out, _ = run(capsys, "brief", "2010", "--year", "2026")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "## Mexico (2010): trade in advanced technology products with the U.S., "
        "January–September 2026"
    )
    # 11 x 9 = 99 bn vs 10 x 9 = 90 bn; U.S. 35.1 x 9 = 315.9 bn (31.34%); Taiwan 9 x 9 = 81
    # vs 7.5 x 9 = 67.5 (+20%) is second, China (8.1 x 9 = 72.9) third
    assert lines[2] == (
        "Mexico's ATP exports to the U.S. rose 10.0% (+$9.00 billion) in January–September 2026 "
        "to $99.00 billion, a 31.3% share of the $315.90 billion U.S. market, ranking first, "
        "ahead of Taiwan ($81.00 billion, +20.0%)."
    )
    assert lines[4] == (
        "- Year over year compares the same months: January–September 2026 against "
        "January–September 2025 (2026 is in progress)."
    )
    # Jan-Sep 2025: 90 / (32.7 x 9 = 294.3) = 30.58% -> 31.34%: +0.76 points
    assert lines[5] == (
        "- Mexico's share of the U.S. market rose 0.8 points, from 30.6% in January–September "
        "2025 to 31.3% in January–September 2026."
    )
    # exports 4.4 x 9 both years; balance 39.6 - 99
    assert lines[6] == (
        "- Mexico's ATP imports from the U.S. were unchanged at $39.60 billion; the U.S. ATP "
        "balance with Mexico (U.S. exports minus imports) was a deficit of $59.40 billion."
    )
    # goods (30 + 11) x 9 + 26.4 x 9 = 606.6 vs 40 x 9 + 26.4 x 9 = 597.6 (+1.51%); 99 / 369
    assert lines[7] == (
        "- Total goods trade between the U.S. and Mexico came to $606.60 billion (imports plus "
        "exports), up 1.5%; ATP made up 26.8% of Mexico's goods exports to the U.S."
    )
    # U.S. exports 17.2 x 9 = 154.8 bn
    assert lines[8] == (
        "- U.S. ATP trade with all partners in January–September 2026: imports $315.90 billion, "
        "exports $154.80 billion, a deficit of $161.10 billion."
    )
    # +9 bn: group 04 +4.5 bn = 5 points of the 10%; under a billion in millions
    assert (
        "Of the 10.0% rise, Information & Communications contributed +5.0 points (+$4.50 "
        "billion), Electronics +2.0 points (+$1.80 billion) and Aerospace +0.8 points (+$720.00 "
        "million)." in lines
    )
    assert (
        "| Code | ATP group | Change $bn | Points | Group YoY % | January–September 2026 $bn |"
        in (lines)
    )
    assert "### Top 5 ATP exporters to the U.S., January–September 2026" in lines
    assert "| 2 | Taiwan (5830) | 81.00 | +13.50 | +20.0 | 25.6 |" in lines


def test_the_leader_and_the_partner_just_above(published, capsys):
    headlines = {}
    for name in ("china", "taiwan", "vietnam", "germany"):
        code, out, _ = run(capsys, "brief", name, "--year", "2025")
        assert code == 0
        headlines[name] = out.splitlines()[2]
    # second: the leader only
    assert headlines["china"] == (
        "China's ATP exports to the U.S. fell 25.0% (-$36.00 billion) in 2025 to $108.00 "
        "billion, a 27.5% share of the $392.40 billion U.S. market, second only to Mexico "
        "($120.00 billion, +25.0%)."
    )
    # third: the one just above, and the leader
    assert headlines["taiwan"] == (
        "Taiwan's ATP exports to the U.S. rose 50.0% (+$30.00 billion) in 2025 to $90.00 "
        "billion, a 22.9% share of the $392.40 billion U.S. market, ranking third, behind China "
        "($108.00 billion, -25.0%), with Mexico ($120.00 billion, +25.0%) first."
    )
    # no 2024 rows: no comparison
    assert headlines["vietnam"] == (
        "Vietnam's ATP exports to the U.S. were $36.00 billion in 2025 (no comparison with "
        "2024), a 9.2% share of the $392.40 billion U.S. market, ranking fourth, behind Taiwan "
        "($90.00 billion, +50.0%), with Mexico ($120.00 billion, +25.0%) first."
    )
    # 2 x 12 both years
    assert headlines["germany"] == (
        "Germany's ATP exports to the U.S. were unchanged in 2025 at $24.00 billion, a 6.1% "
        "share of the $392.40 billion U.S. market, ranking fifth, behind Vietnam ($36.00 "
        "billion, no comparison), with Mexico ($120.00 billion, +25.0%) first."
    )


def test_a_brief_without_a_base_says_so(published, capsys):
    code, out, _ = run(capsys, "brief", "mexico", "--year", "2024")
    assert code == 0
    assert "rose" not in out.splitlines()[2] and "(no comparison with 2023)" in out
    assert "No breakdown of the change: no comparison with 2023." in out
    assert "Mexico's share of the U.S. market was 28.6% in 2024 (no share in 2023" in out


def test_the_exports_flow_is_worded_from_the_partner_side(published, capsys):
    code, out, _ = run(capsys, "brief", "canada", "--year", "2026", "--flow", "exports")
    assert code == 0
    lines = out.splitlines()
    # Canada 5.5 x 9 = 49.5 vs 5 x 9 = 45 bn; U.S. exports 154.8 bn (31.98%); Mexico 4.4 x 9
    assert lines[2] == (
        "Canada's ATP imports from the U.S. rose 10.0% (+$4.50 billion) in January–September "
        "2026 to $49.50 billion, a 32.0% share of the $154.80 billion of U.S. ATP exports, "
        "ranking first, ahead of Mexico ($39.60 billion, unchanged)."
    )
    # Canada's exports to the U.S. (U.S. imports) 1.2 x 9 both years; balance 49.5 - 10.8
    assert lines[6] == (
        "- Canada's ATP exports to the U.S. were unchanged at $10.80 billion; the U.S. ATP "
        "balance with Canada (U.S. exports minus imports) was a surplus of $38.70 billion."
    )
    assert "### Top 5 ATP importers from the U.S., January–September 2026" in lines


def test_a_grouping_has_no_rank_and_no_drivers(published, capsys):
    code, out, _ = run(capsys, "brief", "european", "union", "--year", "2025")
    assert code == 0
    # EU = 4 x Germany: 4 x 2 x 12 = 96 bn both years; a grouping is not worded as a country
    lines = out.splitlines()
    assert lines[2] == (
        "ATP exports to the U.S. from the European Union were unchanged in 2025 at $96.00 "
        "billion, a 24.5% share of the $392.40 billion U.S. market (a grouping of countries: not "
        "ranked)."
    )
    assert "European Union's" not in out
    # EU exports side: 4 x 1.8 x 12 = 86.4 bn against 4 x 1.5 x 12 = 72 bn; 86.4 - 96
    assert lines[5] == (
        "- ATP imports into the European Union from the U.S. rose 20.0% (+$14.40 billion) to "
        "$86.40 billion; the U.S. ATP balance with the European Union (U.S. exports minus "
        "imports) was a deficit of $9.60 billion."
    )
    assert lines[6].endswith("of goods exports from the European Union to the U.S.")
    assert "No breakdown by ATP group for a grouping" in out
    assert "share shift" not in out and "fct_atp_grouping_year" in out


def test_unknown_partner_lists_candidates_and_exits_2(published, capsys):
    code, out, err = run(capsys, "brief", "mexco", "--year", "2025")
    assert (code, out) == (2, "")
    assert err.startswith("atp brief: no partner matches 'mexco' (closest: Mexico (2010))")
    assert err.count("\n") == 1
    code, out, err = run(capsys, "brief", "a", "--year", "2025")
    assert (code, out) == (2, "")
    assert "matches 7 partners: " in err and "China (5700)" in err and "Mexico" not in err
    code, _, err = run(capsys, "brief", "vietnam", "--year", "2024")
    assert code == 2
    assert err == (
        "atp brief: no ATP trade with Vietnam (5520) recorded in 2024 (years with trade: 2025, "
        "2026).\n"
    )
    code, _, err = run(capsys, "brief", "mexico", "--year", "2031")
    assert code == 2 and "2031 has no data yet" in err


# -- json: the mart rows as they are ----------------------------------------------------------


def test_json_numbers_are_the_mart_rows(published, con, capsys):
    code, out, _ = run(capsys, "brief", "mexico", "--year", "2025", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["year"], doc["flow"], doc["months_covered"]) == (2025, "imports", 12)
    assert (doc["period"], doc["compared_with"]) == ("2025", "2024")
    assert doc["text"]["headline"].startswith("Mexico's ATP exports to the U.S. rose 25.0%")

    def same(json_row, mart_row):
        assert json_row.keys() == mart_row.keys()
        for key, value in mart_row.items():
            assert json_row[key] == (value.isoformat() if hasattr(value, "isoformat") else value)

    (partner_year,) = rows(
        con, "SELECT * FROM marts.fct_atp_partner_year WHERE partner_code = '2010' AND year = 2025"
    )
    same(doc["partner_year"], partner_year)
    assert doc["partner_year"]["atp_imports_usd"] == 120 * B
    assert doc["partner_year"]["atp_imports_change_usd"] == 24 * B
    (us,) = rows(con, "SELECT * FROM marts.fct_us_atp_year WHERE year = 2025")
    same(doc["us_total"], us)
    (shift,) = rows(
        con,
        "SELECT * FROM marts.fct_atp_partner_share_shift_year "
        "WHERE partner_code = '2010' AND year = 2025",
    )
    same(doc["share_shift"], shift)
    assert doc["share_shift"]["atp_imports_share_shift_pp"] == approx(
        100 * 120 / 392.4 - 100 * 96 / 336
    )
    drivers = rows(
        con,
        "SELECT * FROM marts.fct_atp_partner_contribution_year "
        "WHERE partner_code = '2010' AND year = 2025 "
        "ORDER BY abs(imports_contribution_pp) DESC, hitech_code",
    )
    assert len(doc["drivers"]) == len(drivers) == 10
    for json_row, mart_row in zip(doc["drivers"], drivers, strict=True):
        same(json_row, mart_row)
    assert (doc["drivers"][0]["hitech_code"], doc["drivers"][0]["imports_change_usd"]) == (
        "04",
        12 * B,
    )
    assert doc["drivers"][0]["imports_contribution_pp"] == approx(12.5)
    top = rows(
        con,
        "SELECT * FROM marts.fct_atp_partner_year WHERE year = 2025 "
        "ORDER BY atp_imports_rank, partner_code LIMIT 5",
    )
    for json_row, mart_row in zip(doc["top"], top, strict=True):
        same(json_row, mart_row)
    assert [r["partner_code"] for r in doc["top"]] == ["2010", "5700", "5830", "5520", "4280"]
    assert doc["data_through"] == "2026-09"
    assert doc["marts"]["drivers"] == "marts.fct_atp_partner_contribution_year"
    # the drivers' points add up to the headline's YoY
    total = sum(d["imports_contribution_pp"] for d in doc["drivers"])
    assert total == approx(doc["partner_year"]["atp_imports_yoy_pct"], abs=1e-9)


# -- the marts --------------------------------------------------------------------------------


def test_contributions_add_up_to_each_partner_yoy(con):
    checked = rows(
        con,
        """
        SELECT p.partner_code, p.year, p.atp_imports_yoy_pct, p.atp_exports_yoy_pct,
               p.atp_imports_change_usd,
               sum(c.imports_contribution_pp) AS imports_pp,
               sum(c.exports_contribution_pp) AS exports_pp,
               sum(c.imports_change_usd) AS imports_change
        FROM marts.fct_atp_partner_year AS p
        JOIN marts.fct_atp_partner_contribution_year AS c USING (partner_code, year)
        GROUP BY ALL ORDER BY ALL
        """,
    )
    # 6 countries x 3 years, less Vietnam 2024
    assert len(checked) == 17
    with_base = [r for r in checked if r["atp_imports_yoy_pct"] is not None]
    assert len(with_base) == 11  # 2025 (less Vietnam) and 2026
    for r in checked:
        if r["atp_imports_yoy_pct"] is None:
            assert r["imports_pp"] is None and r["imports_change"] is None
            continue
        assert r["imports_pp"] == approx(r["atp_imports_yoy_pct"], abs=1e-9)
        assert r["exports_pp"] == approx(r["atp_exports_yoy_pct"], abs=1e-9)
        assert r["imports_change"] == r["atp_imports_change_usd"]
    # China 2025: -36 bn on 144 bn; group 04 (50%) -18 bn = -12.5 points
    (china,) = rows(
        con,
        "SELECT * FROM marts.fct_atp_partner_contribution_year "
        "WHERE partner_code = '5700' AND year = 2025 AND hitech_code = '04'",
    )
    assert china["imports_usd"] == 54 * B and china["prior_imports_usd"] == 72 * B
    assert china["imports_change_usd"] == -18 * B
    assert china["imports_contribution_pp"] == approx(-12.5)
    assert china["partner_prior_atp_imports_usd"] == 144 * B
    assert china["imports_yoy_pct"] == approx(-25.0)


def test_trailing_twelve_months(con):
    mexico = {
        r["month_start"].isoformat(): r
        for r in rows(con, "SELECT * FROM marts.fct_atp_partner_t12m WHERE partner_code = '2010'")
    }
    # windows end in December 2024 (the first 12 covered months) .. September 2026
    assert min(mexico) == "2024-12-01" and max(mexico) == "2026-09-01" and len(mexico) == 22
    first = mexico["2024-12-01"]
    assert first["window_start"].isoformat() == "2024-01-01"
    assert first["atp_imports_t12m_usd"] == 96 * B and first["atp_imports_t12m_prior_usd"] is None
    # December 2025 = calendar 2025; a year earlier = calendar 2024
    dec = mexico["2025-12-01"]
    assert (dec["atp_imports_t12m_usd"], dec["atp_imports_t12m_prior_usd"]) == (120 * B, 96 * B)
    assert dec["atp_imports_t12m_yoy_pct"] == approx(25.0)
    # October 2025 - September 2026: 3 x 10 + 9 x 11 = 129 bn, against 3 x 8 + 9 x 10 = 114 bn;
    # the U.S.: 3 x 32.7 + 9 x 35.1 = 414 bn
    sep = mexico["2026-09-01"]
    assert sep["atp_imports_t12m_usd"] == 129 * B
    assert sep["atp_imports_t12m_prior_usd"] == 114 * B
    assert sep["atp_imports_t12m_change_usd"] == 15 * B
    assert sep["atp_imports_t12m_yoy_pct"] == approx(100 * 15 / 114)
    assert sep["atp_imports_t12m_share_pct"] == approx(100 * 129 / 414)
    assert sep["atp_imports_t12m_rank"] == 1  # Taiwan 3 x 7.5 + 9 x 9 = 103.5
    # exports: 3 x 4.4 + 9 x 4.4 = 52.8 bn, second to Canada (3 x 5 + 9 x 5.5 = 64.5)
    assert sep["atp_exports_t12m_usd"] == 52_800_000_000 and sep["atp_exports_t12m_rank"] == 2
    # Vietnam's first row is January 2025, the first window holding one of its rows
    (vietnam,) = rows(
        con,
        "SELECT min(month_start) AS first, count(*) AS n FROM marts.fct_atp_partner_t12m "
        "WHERE partner_code = '5520'",
    )
    assert (vietnam["first"].isoformat(), vietnam["n"]) == ("2025-01-01", 21)


def test_share_shift(con):
    shifts = {
        (r["partner_code"], r["year"]): r
        for r in rows(con, "SELECT * FROM marts.fct_atp_partner_share_shift_year")
    }
    mexico = shifts["2010", 2026]
    # Jan-Sep 2026: 99 / 315.9; Jan-Sep 2025: 90 / 294.3
    assert mexico["atp_imports_share_pct"] == approx(100 * 99 / 315.9)
    assert mexico["atp_imports_prior_share_pct"] == approx(100 * 90 / 294.3)
    assert mexico["atp_imports_share_shift_pp"] == approx(100 * 99 / 315.9 - 100 * 90 / 294.3)
    # China 2025: 108 / 392.4 against 144 / 336 = 42.86%
    assert shifts["5700", 2025]["atp_imports_share_shift_pp"] == approx(
        100 * 108 / 392.4 - 100 * 144 / 336
    )
    assert shifts["5520", 2025]["atp_imports_share_shift_pp"] is None  # no 2024 rows
    assert shifts["2010", 2024]["atp_imports_prior_share_pct"] is None  # 2023 not loaded


# -- html -------------------------------------------------------------------------------------


def test_html_brief_page_with_its_charts(published, capsys, tmp_path):
    code, out, _ = run(capsys, "html", "--partner", "mexico", "--out", str(tmp_path))
    assert code == 0
    page_path = tmp_path / "brief-2010-2025-imports.html"
    assert out == f"wrote {page_path}\n"
    page = page_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    ids = re.findall(r'<svg class="chart" id="([^"]+)"', page)
    assert ids == ["chart-contributions", "chart-products", "chart-t12m", "chart-partner-mix"]
    assert "Mexico&#x27;s ATP exports to the U.S. rose 25.0% (+$24.00 billion) in 2025" in page
    # contributions: ten bars, group 04 the first and largest (+12.5 points)
    bars = re.findall(r'<rect class="bar" data-name="([^"]+)"', page)
    assert len(bars) == 10 + 3 and bars[0] == "Information &amp; Communications"
    # which products: three bars labelled with the products themselves
    assert bars[10:] == [
        "Machines for reception, convers…",
        "Processing units for automatic…",
        "Electronic integrated circuits:…",
    ]
    assert "+12.5 pts" in page
    # self-contained: nothing to fetch
    for tag in ("<script", "<link", "<img", "<iframe"):
        assert tag not in page.lower()
    assert "http" not in page and not re.search(r"\s(src|href)=", page)

    # `atp brief --format html --out FILE`: the same page for any year and flow
    target = tmp_path / "canada.html"
    code, out, _ = run(
        capsys,
        "brief",
        "canada",
        "--year",
        "2026",
        "--flow",
        "exports",
        "--format",
        "html",
        "--out",
        str(target),
    )
    assert (code, out) == (0, f"wrote {target}\n")
    canada = target.read_text(encoding="utf-8")
    assert "Canada&#x27;s ATP imports from the U.S. rose 10.0% (+$4.50 billion)" in canada
    assert "What drove Canada&#x27;s ATP imports from the U.S., January–September 2026" in canada


def test_html_report_tells_the_story_of_the_largest_mover(published, tmp_path):
    page = write_html_report(published.published, tmp_path).read_text(encoding="utf-8")
    story = re.search(r'<section id="story" class="story">(.*?)</section>', page).group(1)
    # 2025 changes among the top partners: China -36 bn, Taiwan +30, Mexico +24, Canada +2.4
    assert "<h2>The story of 2025: China</h2>" in story
    assert (
        "China&#x27;s ATP exports to the U.S. fell 25.0% (-$36.00 billion) in 2025 to $108.00 "
        "billion, a 27.5% share of the $392.40 billion U.S. market, second only to Mexico "
        "($120.00 billion, +25.0%)." in story
    )
    items = re.findall(r"<li>(.*?)</li>", story)
    assert items[:3] == [
        "Information &amp; Communications: −12.5 pts (−$18.00 billion)",
        "Electronics: −5.0 pts (−$7.20 billion)",
        "Aerospace: −2.0 pts (−$2.88 billion)",
    ]
    assert len(items) == 5


def test_a_brief_without_year_is_of_the_latest_full_year(published, capsys):
    assert main(["brief", "mexico", "--format", "json"]) == 0
    without = json.loads(capsys.readouterr().out)
    assert main(["brief", "mexico", "--year", "2025", "--format", "json"]) == 0
    assert without == json.loads(capsys.readouterr().out)
    assert (without["year"], without["months_covered"]) == (2025, 12)  # not 2026, in progress


# -- the words, on made-up mart rows ------------------------------------------------------------

M = 1_000_000


def made_up_brief(name="MEXICO", code="2010", kind="country", **row) -> Brief:
    """A brief from hand-written mart rows (no warehouse): the imports flow of 2025."""
    partner = Partner(code, name, kind, None, 2020, 2025)
    partner_row = {
        "atp_imports_usd": 120 * B,
        "atp_imports_change_usd": 24 * B,
        "atp_imports_yoy_pct": 25.0,
        "atp_imports_share_pct": 30.6,
        "atp_imports_rank": 1 if kind == "country" else None,
        "atp_exports_usd": 52 * B,
        "atp_exports_change_usd": None,
        "atp_exports_yoy_pct": None,
        "atp_balance_usd": -68 * B,
        "partner_code": code,
        "partner_name": name,
        **row,
    }
    us = {"atp_imports_usd": 392 * B, "atp_exports_usd": 193 * B, "atp_balance_usd": -199 * B}
    ranking = [partner_row] if kind == "country" else []
    return Brief(partner, 2025, "imports", 12, partner_row, ranking, us, [], None)


def driver(code, name, points, change):
    return {
        "hitech_code": code,
        "category_name": name,
        "imports_contribution_pp": points,
        "imports_change_usd": change,
        "imports_yoy_pct": None,
        "imports_usd": 1 * B,
    }


def test_millions_never_read_as_zero_billion():
    b = made_up_brief(
        atp_imports_usd=4 * M,
        atp_imports_change_usd=1 * M,
        atp_balance_usd=-2 * M,
        atp_exports_usd=2 * M,
    )
    words = sentences(b)
    assert "to $4.00 million" in words.headline and "(+$1.00 million)" in words.headline
    assert "$0.00" not in words.headline + words.other_direction
    assert words.other_direction.endswith("was a deficit of $2.00 million.")
    assert "$0.004" not in words.headline  # one formatter: the unit the value needs


def test_a_small_contribution_never_shows_as_zero_points():
    b = made_up_brief(atp_imports_yoy_pct=0.1, atp_imports_change_usd=96 * M)
    b.drivers = [driver("04", "Electronics", 0.06, 58 * M), driver("05", "Aerospace", 0.04, 38 * M)]
    words = sentences(b)
    assert words.drivers == (
        "Of the 0.1% rise, Electronics contributed +0.1 points (+$58.00 million) and Aerospace "
        "+0.04 points (+$38.00 million)."
    )
    assert [row[3] for row in words.drivers_table.display] == ["+0.1", "+0.04"]
    assert "+0.0 " not in words.drivers


@pytest.mark.parametrize(
    ("share", "words"),
    [
        (11.7, "an 11.7% share"),
        (8.2, "an 8.2% share"),
        (18.0, "an 18.0% share"),
        (83.4, "an 83.4% share"),
        (1.5, "a 1.5% share"),
        (30.6, "a 30.6% share"),
        (110.0, "a 110.0% share"),
    ],
)
def test_the_article_goes_by_the_sound_of_the_number(share, words):
    assert (
        f", {words} of the $392.00 billion U.S. market"
        in sentences(made_up_brief(atp_imports_share_pct=share)).headline
    )


def test_an_inverted_census_name_reads_as_people_say_it():
    b = made_up_brief("KOREA, SOUTH", "5800")
    words = sentences(b)
    assert words.headline.startswith("South Korea's ATP exports to the U.S. rose 25.0%")
    assert "the U.S. ATP balance with South Korea (" in words.other_direction
    assert "Korea, South" not in words.headline + words.other_direction
    # the title keeps the one display form of tables, with the code
    assert words.title.startswith("Korea, South (5800): ")
    assert sentences(made_up_brief("BAHAMAS, THE", "2360")).headline.startswith("The Bahamas'")


def test_a_grouping_is_not_worded_as_a_country():
    b = made_up_brief("EUROPEAN UNION", "0003", "grouping")
    words = sentences(b)
    assert words.headline.startswith("ATP exports to the U.S. from the European Union rose")
    assert "European Union's" not in words.headline + words.other_direction
    assert grouping_words(Partner("0022", "OECD", "grouping", None, 0, 0)) == "OECD countries"
    assert grouping_words(Partner("5XXX", "ASIA", "grouping", None, 0, 0)) == "Asia"


def test_drivers_of_a_rise_are_the_groups_that_rose():
    b = made_up_brief(atp_imports_yoy_pct=5.0, atp_imports_change_usd=5 * B)
    # largest effect first, as load_brief orders them: a fall among them
    b.drivers = [
        driver("04", "Electronics", 8.0, 8 * B),
        driver("05", "Aerospace", -4.0, -4 * B),
        driver("08", "Biotechnology", 1.5, 1.5 * B),
        driver("03", "Weapons", -0.5, -0.5 * B),
    ]
    assert sentences(b).drivers == (
        "Of the 5.0% rise, Electronics contributed +8.0 points (+$8.00 billion) and "
        "Biotechnology +1.5 points (+$1.50 billion); partly offset by Aerospace (-4.0 points, "
        "-$4.00 billion)."
    )
    # and vice versa: a fall lists the groups that fell
    b.row["atp_imports_yoy_pct"] = -3.0
    b.drivers = [driver("04", "Electronics", -5.0, -5 * B), driver("05", "Aerospace", 2.0, 2 * B)]
    assert sentences(b).drivers == (
        "Of the 3.0% fall, Electronics contributed -5.0 points (-$5.00 billion); partly offset "
        "by Aerospace (+2.0 points, +$2.00 billion)."
    )
