"""Display names, the source line, numbers for people and plurals (analyst.formats); the same
rules through the `atp` commands on copies of the published fixture whose publication row says
demo, another API, or nothing (an old copy)."""

from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from analyst.cli import ATP_GROUPS
from analyst.formats import (
    BILLIONS,
    DEMO_SOURCE,
    MILLIONS,
    SOURCE,
    Table,
    bn,
    fixed,
    money,
    money_unit,
    money_words,
    pct,
    plural,
    source_line,
    sql_display,
)
from ingest.partner_names import display_name
from orchestration.cli import main
from tests.conftest import ROOT

CENSUS_URL = "https://api.census.gov/data/timeseries/intltrade"


# -- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("census", "shown"),
    [
        ("USMCA (NAFTA)", "USMCA (NAFTA)"),
        ("OECD", "OECD"),
        ("CAFTA-DR", "CAFTA-DR"),
        ("APEC", "APEC"),
        ("ASEAN", "ASEAN"),
        ("NATO", "NATO"),
        ("OPEC", "OPEC"),
        ("HEARD AND MCDONALD ISLANDS", "Heard and McDonald Islands"),
        ("COTE D'IVOIRE", "Cote d'Ivoire"),
        ("KOREA, SOUTH", "Korea, South"),
        ("EUROPEAN UNION", "European Union"),
        ("BOSNIA AND HERZEGOVINA", "Bosnia and Herzegovina"),
        ("SAINT KITTS AND NEVIS", "Saint Kitts and Nevis"),
        ("ST VINCENT AND THE GRENADINES", "St Vincent and the Grenadines"),
        ("TWENTY LATIN AMERICAN REPUBLICS", "Twenty Latin American Republics"),
        ("KOREA, DEMOCRATIC PEOPLE'S REPUBLIC OF", "Korea, Democratic People's Republic of"),
        ("MACAU", "Macau"),
        ("UNITED ARAB EMIRATES", "United Arab Emirates"),
        ("MEXICO", "Mexico"),
        ("Taiwan", "Taiwan"),  # mixed case: kept
    ],
)
def test_display_names(census, shown):
    assert display_name(census) == shown


# -- the source line ------------------------------------------------------------------------


def test_the_source_line_from_the_publication_row():
    assert source_line({"source_api": CENSUS_URL, "demo": False}) == SOURCE
    assert source_line({"source_api": "https://API.Census.gov/data", "demo": None}) == SOURCE
    # an old copy (no source_api, no demo), no row at all: Census
    assert source_line({"published_at": None, "newest_month": "2026-09"}) == SOURCE
    assert source_line({}) == source_line(None) == SOURCE
    assert source_line({"source_api": CENSUS_URL, "demo": True}) == DEMO_SOURCE
    assert DEMO_SOURCE.startswith("Demo data, not from the Census Bureau")
    other = source_line({"source_api": "http://127.0.0.1:8765/data/timeseries/intltrade"})
    assert other.startswith("Source: API at 127.0.0.1, not the Census Bureau")
    mirror = source_line({"source_api": "https://census.example.org/api", "demo": False})
    assert mirror.startswith("Source: API at census.example.org, not the Census Bureau")
    assert "census.gov" not in mirror


# -- numbers --------------------------------------------------------------------------------


def test_a_non_zero_value_never_shows_as_zero():
    assert fixed(0.004, 2) == "0.004" and fixed(-0.004, 2, sign=True) == "-0.004"
    assert fixed(0.0004, 2, sign=True) == "+0.0004"
    assert fixed(0, 2, sign=True) == "0.00" and fixed(-0.0, 2) == "0.00"
    assert fixed(1234.567, 2) == "1,234.57"
    assert bn(4_000_000) == "0.004" and bn(-4_000_000, sign=True) == "-0.004"
    assert bn(120 * 10**9) == "120.00" and bn(None) == "n/a"
    assert pct(0.04) == "+0.04" and pct(-0.001) == "-0.001" and pct(0.0) == "0.0"
    assert pct(25.0) == "+25.0" and pct(30.58, sign=False) == "30.6"


def test_the_unit_of_a_table():
    assert money_unit([120e9, -3e6, None]) is BILLIONS
    assert money_unit([5_127_284, -900_000_000]) is MILLIONS
    assert money_unit([None]) is BILLIONS
    assert money_unit([1e9]) is BILLIONS and money_unit([-1e9]) is BILLIONS  # one billion
    assert money_unit([999_999_999]) is MILLIONS
    assert money(5_127_284, MILLIONS) == "5.13" and money(-1e5, MILLIONS, sign=True) == "-0.10"
    assert (MILLIONS.label, BILLIONS.label) == ("$mn", "$bn")


def test_sql_display_rounds_aligns_and_separates():
    table = Table(
        ["year", "first_year", "usd", "share", "amount", "label"],
        [
            (2024, 2013, 5_127_284, 0.0006717787327708191, Decimal("12345.67"), "A"),
            (2025, 2013, 120_000_000_000, 30.58103975, Decimal("1.50"), None),
        ],
    )
    # an arithmetic double (17 digits) to 6 significant digits; 30.58103975 has 10: all shown
    assert sql_display(table, align=False) == [
        ["2024", "2013", "5,127,284", "0.000671779", "12,345.67", "A"],
        ["2025", "2013", "120,000,000,000", "30.58103975", "1.50", "NULL"],
    ]
    aligned = sql_display(table)
    assert [row[3] for row in aligned] == ["0.000671779", "30.58103975 "]  # points line up


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-298.95, "-298.95"),  # round(x / 1e9, 2): never fewer decimals than it carries
        (112.37, "112.37"),
        (9.0, "9"),  # never more: no zeros added
        (-0.8, "-0.8"),
        (0.1 + 0.2, "0.3"),  # 0.30000000000000004: arithmetic, 6 significant digits
        (100 * 120 / 392.4, "30.581"),
        (1 / 3, "0.333333"),
        (123456789.12345679, "123,456,789"),  # the whole part is never cut
        (1234567.25, "1,234,567.25"),
        (6.71e-05, "0.0000671"),
        (1e20, "100,000,000,000,000,000,000"),
        (-0.0, "0"),
    ],
)
def test_sql_display_shows_the_digits_a_double_has(value, shown):
    assert sql_display(Table(["x"], [(value,)]), align=False) == [[shown]]


def test_plural():
    assert plural(1, "source") == "1 source" and plural(3, "source") == "3 sources"
    assert plural(1, "country", "countries") == "1 country"
    assert plural(2, "country", "countries") == "2 countries"
    assert plural(1234, "row") == "1,234 rows"


def test_category_help_lists_the_seeds_groups(capsys):
    with (ROOT / "dbt_project" / "seeds" / "atp_categories.csv").open(encoding="utf-8") as f:
        seed = [(r["hitech_code"], r["category_name"]) for r in csv.DictReader(f)]
    assert list(ATP_GROUPS) == seed
    assert main(["category", "--help"]) == 0
    out = capsys.readouterr().out
    for code, name in seed:
        assert f"  {code}  {name}\n" in out


# -- through the commands, on copies with another publication row ---------------------------


def _copy(published, tmp_path: Path, monkeypatch, sql: str) -> Path:
    copy = tmp_path / "atp.duckdb"
    shutil.copyfile(published.published, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute(sql)
    monkeypatch.setenv("ATP_PUBLISHED", str(copy))
    return copy


def _outputs(capsys) -> dict[str, str]:
    found = {}
    for name, argv in {
        "report": ["report", "--year", "2025", "--top", "2"],
        "report_md": ["report", "--year", "2025", "--top", "2", "--format", "markdown"],
        "report_json": ["report", "--year", "2025", "--format", "json"],
        "report_csv": ["report", "--year", "2025", "--format", "csv"],
        "partner": ["partner", "mexico"],
        "partner_json": ["partner", "mexico", "--format", "json"],
        "category": ["category", "08", "--year", "2025"],
        "category_json": ["category", "08", "--year", "2025", "--format", "json"],
        "sql": ["sql", "SELECT 1 AS one"],
        "sql_csv": ["sql", "SELECT 1 AS one", "--format", "csv"],
    }.items():
        assert main(argv) == 0, name
        found[name] = capsys.readouterr().out
    return found


def test_demo_data_says_so_in_every_output(published, tmp_path, monkeypatch, capsys):
    _copy(published, tmp_path, monkeypatch, "UPDATE main.publication SET demo = true")
    out = _outputs(capsys)
    for name in ("report", "report_md", "partner", "category", "sql"):
        assert out[name].rstrip("\n").splitlines()[-1] == DEMO_SOURCE, name
    for name in ("report_json", "partner_json", "category_json"):
        assert json.loads(out[name])["source"] == DEMO_SOURCE, name
    # csv stays data only
    assert "Demo" not in out["report_csv"] and out["sql_csv"] == "one\n1\n"
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--format", "csv"]) == 0
    assert capsys.readouterr().out.rstrip("\n").splitlines()[-1] == DEMO_SOURCE
    assert DEMO_SOURCE in (tmp_path / "data" / "export" / "README.md").read_text()


def test_census_data_and_an_old_copy_say_census(published, tmp_path, monkeypatch, capsys):
    _copy(
        published, tmp_path, monkeypatch, f"UPDATE main.publication SET source_api = '{CENSUS_URL}'"
    )
    out = _outputs(capsys)
    assert out["report"].splitlines()[-1] == SOURCE
    assert json.loads(out["partner_json"])["source"] == SOURCE
    assert out["sql"].splitlines() == ["one", "  1", "(1 row)"]  # no source line for Census
    # a copy published before source_api and demo were recorded
    (tmp_path / "old").mkdir()
    _copy(
        published,
        tmp_path / "old",
        monkeypatch,
        "ALTER TABLE main.publication DROP COLUMN source_api; "
        "ALTER TABLE main.publication DROP COLUMN demo",
    )
    out = _outputs(capsys)
    assert out["report"].splitlines()[-1] == SOURCE
    assert json.loads(out["category_json"])["source"] == SOURCE


def test_everyday_partner_names(published, capsys):
    def first_line(*argv):
        code = main(["partner", *argv])
        out, err = capsys.readouterr()
        return code, (out.splitlines() or [""])[0], err

    assert first_line("viet", "nam")[1].startswith("Vietnam (5520): country")
    assert first_line("PRC")[1].startswith("China (5700): country")
    assert first_line("eu")[1].startswith("European Union (0003): grouping")
    code, _, err = first_line("USA")
    assert code == 2 and "is the reporter" in err and err.count("\n") == 1
    code, _, err = first_line("south", "korea")  # an alias whose partner the fixture lacks
    assert code == 2 and "Census calls it Korea, South, not in this copy" in err


def test_money_words_in_the_unit_the_value_needs():
    assert money_words(35_100_000_000) == "$35.10 billion"
    assert money_words(-1_200_000_000, sign=True) == "-$1.20 billion"
    assert money_words(360_000_000, sign=True) == "+$360.00 million"
    assert money_words(4_000) == "$0.004 million"  # never 0.00 for a value that is not zero
    assert money_words(0, sign=True) == "$0.00 billion"
    assert money_words(None) == "n/a"
