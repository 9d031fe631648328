"""Product detail in the published marts and `atp products`, on the shared fixture warehouse
(products made by the fake from the hitech values and the ATP code list it serves)."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from orchestration.cli import main


def query(settings, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def atp(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["products", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_products_add_up_to_the_hitech_groups_to_the_dollar(published):
    rows = query(
        published,
        "SELECT c.year, c.flow, c.partner_code, c.atp_group_code, c.hitech_usd, c.products_usd, "
        "c.coverage_pct, (SELECT sum(value_usd) FROM marts.fct_atp_product_year p "
        " WHERE p.year = c.year AND p.flow = c.flow AND p.partner_code = c.partner_code "
        " AND p.atp_group_code = c.atp_group_code) AS summed "
        "FROM marts.fct_atp_product_coverage c",
    )
    assert len(rows) == 340  # 2 flows x (5 countries in 2024, 6 after) x 10 groups x years
    for year, flow, partner, group, hitech, products, coverage, summed in rows:
        assert products == hitech == (summed or 0), (year, flow, partner, group)
        assert coverage == 100.0 or (hitech == 0 and coverage is None)


def test_a_partners_product_points_add_up_to_its_atp_yoy(published):
    rows = query(
        published,
        "SELECT p.year, p.flow, p.partner_code, sum(p.contribution_pts), "
        "any_value(CASE p.flow WHEN 'imports' THEN y.atp_imports_yoy_pct "
        "ELSE y.atp_exports_yoy_pct END) "
        "FROM marts.fct_atp_product_year p JOIN marts.fct_atp_partner_year y "
        "USING (partner_code, year) WHERE p.year > 2024 GROUP BY ALL",
    )
    with_base = query(
        published,
        "SELECT year, flow, partner_code FROM marts.fct_atp_partner_year, "
        "(VALUES ('imports'), ('exports')) AS flows(flow) WHERE true "
        "AND CASE flow WHEN 'imports' THEN atp_imports_yoy_pct ELSE atp_exports_yoy_pct END "
        "IS NOT NULL",
    )
    assert {row[:3] for row in rows if row[3] is not None} == set(with_base)
    assert len(with_base) == 22  # 5 countries with a base in 2025, 6 in 2026, both flows
    for year, flow, partner, points, yoy in rows:
        if yoy is not None:
            assert points == pytest.approx(yoy, abs=1e-9), (year, flow, partner)


def test_a_year_in_progress_is_compared_over_the_same_months(published):
    (months, value_2026, prior_2026, value_2025) = query(
        published,
        "SELECT a.months_covered, a.value_usd, a.prior_value_usd, b.value_usd "
        "FROM marts.fct_atp_product_year a JOIN marts.fct_atp_product_year b "
        "USING (flow, partner_code, commodity_code) WHERE a.year = 2026 AND b.year = 2025 "
        "AND flow = 'imports' AND partner_code = '2010' AND commodity_code = '8517130000'",
    )[0]
    assert months == 9
    assert prior_2026 == value_2025 * 9 // 12  # the fixture's months are all alike
    assert value_2026 == pytest.approx(prior_2026 * 1.10, rel=1e-9)  # Mexico's imports +10%


def test_the_drivers_in_order_with_their_points(published, capsys):
    code, out, err = atp(capsys, "mexico", "--year", "2025")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "ATP products in U.S. imports from Mexico (2010), 2025 (YoY vs 2024; largest change first)"
    )
    assert lines[2].split()[:2] == ["1", "8517620090"] and lines[2].split()[-4:] == [
        "28.00",
        "+5.60",
        "+25.0",
        "+5.8",
    ]
    assert len([line for line in lines if line[:4].strip().isdigit()]) == 10
    assert "the points of all its products add up to its ATP YoY %" in out
    assert "The 10 product(s) shown: 84.0% of the partner's 25 ATP products by value." in out


def test_json_numbers_are_the_mart_rows(published, capsys):
    code, out, _ = atp(capsys, "2010", "--year", "2025", "--flow", "exports", "--format", "json")
    document = json.loads(out)
    assert (document["partner"]["partner_name"], document["year"], document["flow"]) == (
        "Mexico",
        2025,
        "exports",
    )
    marts = query(
        published,
        "SELECT commodity_code, commodity_description, atp_group_code, value_usd, change_usd, "
        "yoy_pct, contribution_pts FROM marts.fct_atp_product_year WHERE partner_code = '2010' "
        "AND year = 2025 AND flow = 'exports' "
        "ORDER BY abs(change_usd) DESC, value_usd DESC, commodity_code LIMIT 10",
    )
    fields = (
        "commodity_code",
        "description",
        "atp_group_code",
        "value_usd",
        "change_usd",
        "yoy_pct",
        "contribution_pts",
    )
    assert [tuple(p[f] for f in fields) for p in document["products"]] == marts


def test_by_value_one_group_and_a_year_in_progress(published, capsys):
    code, out, _ = atp(
        capsys,
        "mexico",
        "--year",
        "2026",
        "--group",
        "aerospace",
        "--by",
        "value",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    values = [int(row["value_usd"]) for row in rows]
    assert values == sorted(values, reverse=True) and len(rows) == 3  # the list's 3 aerospace codes
    assert {row["atp_group_code"] for row in rows} == {"08"}
    _, text, _ = atp(capsys, "mexico", "--year", "2026")
    assert "2026 is in progress: the same 9 months of 2025 are the base." in text
    assert "2026, Jan-Sep (YoY vs the same 9 months of 2025" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["european union"], "is a grouping: product detail is by country"),
        (["mexico", "--group", "spaceships"], "spaceships"),
        (["mexico", "--year", "2031"], "2031 has no data yet"),
    ],
)
def test_what_it_cannot_answer_is_one_line(published, capsys, args, message):
    code, out, err = atp(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("atp products: ") and message in err and err.count("\n") == 1


def test_the_brief_says_which_products_moved_most(published, capsys):
    assert main(["brief", "mexico", "--year", "2025"]) == 0
    text = capsys.readouterr().out
    section = text.split("### Which products\n\n", 1)[1].split("\n\n###", 1)[0]
    assert section.startswith(
        "The 3 products that moved most, of the 10-digit codes on the 2025 ATP list: machines for "
        "reception, conversion and transmission of data, nesoi (8517620090, Information & "
        "Communications) +$5.60 billion (+5.8 points), "
    )
    assert "| 8542310000 | ELECTRONIC INTEGRATED CIRCUITS: PROCESSORS AND CONTROLLERS |" in section
    assert "which products: marts.fct_atp_product_year" in text
    assert main(["brief", "mexico", "--year", "2025", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    codes = [p["commodity_code"] for p in document["products"]]
    marts = query(
        published,
        "SELECT commodity_code FROM marts.fct_atp_product_year WHERE partner_code = '2010' AND "
        "year = 2025 AND flow = 'imports' ORDER BY abs(change_usd) DESC, commodity_code LIMIT 3",
    )
    assert codes == [code for (code,) in marts]
    assert document["marts"]["products"] == "marts.fct_atp_product_year"


def test_a_grouping_brief_has_no_products(published, capsys):
    assert main(["brief", "european union", "--year", "2025"]) == 0
    assert "Which products" not in capsys.readouterr().out
