"""`atp digest` (analyst/digest.py) on the published fixture warehouse (2024, 2025, Jan-Sep 2026).

Expected figures come from the marts by SQL here (and, where simple, by hand from
fake_census/fixtures.py: monthly values are constant within a year), never from the digest's own
functions. Monthly ATP ($bn), the U.S. as the sum of the six countries:
  imports  2025: 32.7, 2026: 35.1      exports  2025: 16.1, 2026: 17.2
Jan-Sep 2026 against Jan-Sep 2025: the largest import change is Taiwan's (+1.5 x 9 = +13.5); in
exports Canada and Taiwan both gain 4.5, Canada (rank 1) first.

The fixture copy has one vintage per (flow, year): every month arrived with it, none is revised.
Revisions are tested on a copy whose fct_atp_revisions is edited to show a second vintage.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import timedelta
from html import escape

import duckdb
import pytest

from analyst.digest import digest, render, write_digest
from analyst.formats import DEMO_SOURCE
from orchestration.cli import main

B = 1_000_000_000
M = 1_000_000


def rows(path, sql, *params):
    """Mart rows as dicts, on a connection of their own (the `atp` commands run in this process
    open the copy too)."""
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(path, sql, *params):
    return rows(path, sql, *params)[0]


def run_json(capsys, *argv):
    assert main(["digest", "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


# -- the figures --------------------------------------------------------------------------------


def test_the_newest_month_and_its_us_figures(published, capsys):
    path = published.published
    newest = one(
        path, "SELECT strftime(max(month_start), '%Y-%m') AS m FROM marts.fct_atp_trade_monthly"
    )
    assert newest["m"] == "2026-09"
    month = {
        r["month_start"].year: r
        for r in rows(
            path,
            "SELECT month_start, sum(imports_usd) AS imports, sum(exports_usd) AS exports "
            "FROM marts.fct_atp_trade_monthly WHERE month IN (9) AND year IN (2025, 2026) "
            "GROUP BY month_start",
        )
    }
    ytd = one(path, "SELECT * FROM marts.fct_us_atp_year WHERE year = 2026")

    doc = run_json(capsys)
    assert doc["data_through"] == "2026-09" and doc["months_covered"] == ytd["months_covered"] == 9
    for flow, now, then in (("imports", 35.1, 32.7), ("exports", 17.2, 16.1)):
        got = doc["us_month"][flow]
        assert got["month"] == "2026-09" and got["prior_month"] == "2025-09"
        assert got["value_usd"] == month[2026][flow] == round(now * B)
        assert got["prior_value_usd"] == month[2025][flow] == round(then * B)
        assert got["change_usd"] == month[2026][flow] - month[2025][flow]
        assert got["yoy_pct"] == pytest.approx((now - then) / then * 100)
        assert got["missing_cells"] == 0
    # the year to date is the mart's row, whole dollars and unrounded percent
    assert doc["us_year_to_date"] == json.loads(json.dumps(ytd, default=str))
    assert doc["us_year_to_date"]["atp_imports_usd"] == round(35.1 * 9 * B)
    assert doc["us_year_to_date"]["atp_imports_change_usd"] == round((35.1 - 32.7) * 9 * B)


def test_the_partners_that_moved_most(published, capsys):
    doc = run_json(capsys)
    for flow in ("imports", "exports"):
        expected = rows(
            published.published,
            f"SELECT partner_code, partner_name, atp_{flow}_usd, atp_{flow}_change_usd, "
            f"atp_{flow}_yoy_pct, atp_{flow}_rank FROM marts.fct_atp_partner_year "
            f"WHERE year = 2026 AND atp_{flow}_change_usd IS NOT NULL",
        )
        expected.sort(key=lambda r: (-abs(r[f"atp_{flow}_change_usd"]), r[f"atp_{flow}_rank"]))
        assert doc["movers"][flow] == expected[:5]
    top = doc["movers"]["imports"][0]
    assert (top["partner_code"], top["atp_imports_change_usd"]) == ("5830", round(13.5 * B))
    assert top["atp_imports_yoy_pct"] == pytest.approx(20.0)
    # a tie in dollars (Canada and Taiwan, +4.5 bn): the larger partner first
    assert [r["partner_code"] for r in doc["movers"]["exports"][:2]] == ["1220", "5830"]
    assert doc["movers"]["exports"][0]["atp_exports_change_usd"] == round(4.5 * B)


def test_every_month_arrived_with_the_first_vintage(published, capsys):
    doc = run_json(capsys)
    months = {(c["flow"], c["month"]) for c in doc["changes"]["months"]}
    expected = {
        (r["flow"], r["m"])
        for r in rows(
            published.published,
            "SELECT DISTINCT flow, strftime(month_start, '%Y-%m') AS m FROM marts.fct_atp_revisions",
        )
    }
    assert months == expected and len(months) == 2 * 33
    assert {c["status"] for c in doc["changes"]["months"]} == {"arrived"}
    assert doc["revisions"] == []
    assert doc["subject"] == "ATP digest, data through September 2026: 33 months arrived"


def test_markdown_says_it_in_words_and_tables(published, capsys):
    assert main(["digest"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("## U.S. ATP trade: release digest, data through September 2026\n")
    assert (
        "Arrived: imports 2024-01..2026-09 (33 months); exports 2024-01..2026-09 (33 months)."
        in text
    )
    assert "Revised: none." in text
    assert "| ATP imports | 35.10 | 32.70 | +2.40 | +7.3 | 315.90 | +21.60 | +7.3 |" in text
    assert "| ATP exports | 17.20 | 16.10 | +1.10 | +6.8 | 154.80 | +9.90 | +6.8 |" in text
    assert "| Taiwan (5830) | 81.00 | +13.50 | +20.0 | 2 |" in text
    assert "No month was revised in this publication." in text
    # the fixture comes from the fake API: the source says so, at the top and at the end
    assert "> **Source: API at 127.0.0.1, not the Census Bureau" in text
    assert "Source: API at 127.0.0.1, not the Census Bureau" in text.splitlines()[-2]


def test_the_text_summary_is_a_few_lines(published):
    text = render(digest(published), "text")
    lines = text.splitlines()
    assert 4 <= len(lines) <= 7
    assert lines[1] == (
        "U.S. ATP imports, September 2026: $35.10 billion, +7.3% on September 2025; "
        "January–September 2026: $315.90 billion, +7.3%."
    )
    assert "imports Taiwan +$13.50 billion; exports Canada +$4.50 billion" in text
    assert lines[-1].startswith("Source: API at 127.0.0.1")


def test_html_is_one_page_without_external_urls(published, capsys):
    assert main(["digest", "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1 and page.rstrip().endswith("</html>")
    assert not re.search(r"https?:|//[a-z]|<script|<link|<img|src=|url\(", page, re.I)
    assert '<td class="num">35.10</td>' in page
    assert '<p class="banner">Source: API at 127.0.0.1' in page


def test_the_command_line(published, capsys, tmp_path, monkeypatch):
    assert main(["digest", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: atp digest")
    missing = tmp_path / "missing.duckdb"
    monkeypatch.setenv("ATP_PUBLISHED", str(missing))
    assert main(["digest"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"atp digest: no warehouse at {missing}")
    assert err.count("\n") == 1


# -- a second vintage: arrivals and revisions ------------------------------------------------------


@pytest.fixture
def copy(published, tmp_path):
    """Settings whose published copy is a writable copy of the fixture's (with its freshness
    record): the tests edit it as a later publication would look."""
    target = tmp_path / "atp.duckdb"
    shutil.copy(published.published, target)
    target.chmod(0o644)
    freshness = published.published.with_name("atp.freshness.json")
    shutil.copy(freshness, tmp_path / "atp.freshness.json")
    return replace(published, published=target, report_dir=tmp_path / "report")


def republish(path, *, demo=False):
    """Make the copy look like the next publication: imports 2026 gets a second vintage that adds
    September (not in its first), imports 2025 a second one that revises China's group 04 in
    March (+$150 million) and Mexico's group 05 in June (-$400 million). Exports stay as they
    were. Returns the new vintage's fetch time."""
    with duckdb.connect(str(path)) as con:
        published_at = con.execute("SELECT published_at FROM main.publication").fetchone()[0]
        fetched = published_at + timedelta(days=30)
        con.execute(
            "UPDATE marts.fct_atp_revisions SET vintages = 2, latest_fetched_at = ? "
            "WHERE flow = 'imports' AND year IN (2025, 2026)",
            [fetched],
        )
        con.execute(
            "UPDATE marts.fct_atp_revisions SET first_value_usd = NULL, "
            "revision_usd = latest_value_usd, revision_pct = NULL, revision_status = 'added' "
            "WHERE flow = 'imports' AND year = 2026 AND month = 9"
        )
        for code, group, month, change in (("5700", "04", 3, 150 * M), ("2010", "05", 6, -400 * M)):
            con.execute(
                "UPDATE marts.fct_atp_revisions SET latest_value_usd = first_value_usd + ?, "
                "revision_usd = ?, revision_pct = ? * 100.0 / first_value_usd, "
                "revision_status = 'revised' WHERE flow = 'imports' AND year = 2025 "
                "AND partner_code = ? AND hitech_code = ? AND month = ?",
                [change, change, change, code, group, month],
            )
        con.execute(
            "UPDATE main.publication SET published_at = ?, demo = ?",
            [fetched + timedelta(minutes=5), demo],
        )
    return fetched


def test_a_later_publication_shows_what_arrived_and_what_was_revised(copy, capsys, monkeypatch):
    # the pipeline writes the digest after each publication: this one is the first
    written = write_digest(copy)
    assert [p.name for p in written] == ["atp.digest.md", "atp.digest.html", "atp.digest.json"]
    first = json.loads(written[2].read_text())
    assert len(first["changes"]["months"]) == 66
    previous = first["published_at"]

    republish(copy.published)
    found = digest(copy)
    # exact: the vintages fetched after the previous publication, which its digest recorded
    assert found.basis.startswith("since the previous publication (")
    assert found.since.isoformat() == previous
    assert [(c["flow"], c["month"], c["status"]) for c in found.changes] == [
        ("imports", "2025-03", "revised"),
        ("imports", "2025-06", "revised"),
        ("imports", "2026-09", "arrived"),
    ]
    assert [c["revision_usd"] for c in found.changes] == [150 * M, -400 * M, None]

    expected = rows(
        copy.published,
        "SELECT flow, partner_code, strftime(month_start, '%Y-%m') AS month, "
        "sum(first_value_usd) AS first_value_usd, sum(latest_value_usd) AS latest_value_usd, "
        "sum(revision_usd) AS revision_usd FROM marts.fct_atp_revisions GROUP BY ALL "
        "HAVING bool_or(revision_status = 'revised') ORDER BY abs(sum(revision_usd)) DESC",
    )
    assert len(expected) == 2
    got = [{k: r[k] for k in expected[0]} for r in found.revisions]
    assert got == expected
    assert (
        found.revisions[0]["partner_code"] == "2010" and found.revisions[0]["status"] == "revised"
    )
    assert found.revisions[0]["revision_pct"] == pytest.approx(
        -400 * M / expected[0]["first_value_usd"] * 100
    )

    monkeypatch.setenv("ATP_PUBLISHED", str(copy.published))
    assert main(["digest"]) == 0
    text = capsys.readouterr().out
    assert "Arrived: imports 2026-09." in text
    assert "Revised: imports 2025-03, 2025-06 (2 months), net -$250.00 million." in text
    assert "| Mexico (2010) | imports | 2025-06 | 10.00 | 9.60 | -0.40 | -4.0 | revised |" in text
    assert (
        found.subject
        == "ATP digest, data through September 2026: 2026-09 arrived, 2 months revised"
    )
    summary = render(found, "text")
    assert "Largest revision: Mexico imports 2025-06, -$400.00 million (revised)." in summary


def test_without_a_previous_digest_the_freshness_record_bounds_the_news(copy):
    fetched = republish(copy.published)
    record = json.loads((copy.published.with_name("atp.freshness.json")).read_text())
    record["last_changed"] = (fetched - timedelta(minutes=1)).isoformat() + "+00:00"
    (copy.published.with_name("atp.freshness.json")).write_text(json.dumps(record))
    found = digest(copy)
    assert found.basis.startswith("since the latest run that changed the data started (")
    assert {c["month"] for c in found.changes} == {"2025-03", "2025-06", "2026-09"}


def test_demo_data_says_so_everywhere(copy):
    republish(copy.published, demo=True)
    found = digest(copy)
    assert DEMO_SOURCE in render(found, "markdown")
    assert f'<p class="banner">{escape(DEMO_SOURCE)}</p>' in render(found, "html")
    assert render(found, "text").splitlines()[-1] == DEMO_SOURCE
    assert json.loads(render(found, "json"))["demo"] is True
    assert found.subject.endswith("(demo data)")


def test_write_digest_writes_each_format_beside_the_copy(copy):
    written = write_digest(copy)
    found = digest(copy)
    for path, fmt in zip(written, ("markdown", "html", "json"), strict=True):
        assert path.parent == copy.published.parent
        assert path.read_text() == render(found, fmt) + "\n"
    assert not list(copy.published.parent.glob(".*.tmp"))
