"""Parsing a Census response by header name, with the API's quirks."""

from __future__ import annotations

import hashlib
import json

import pytest

from ingest import census_format
from ingest.census_format import MalformedJson, normalize_total, parse_table
from ingest.datasets import HITECH, HS
from ingest.errors import CensusResponseError


def body(rows) -> bytes:
    return json.dumps(rows).encode()


def test_columns_are_found_by_name_and_the_first_of_a_repeated_name_wins():
    # Predicate columns are appended; CTY_CODE appears twice when it is also a predicate.
    data = [
        ["HITECH_DESC", "GEN_VAL_MO", "CTY_NAME", "HITECH", "CTY_CODE", "time", "CTY_CODE"],
        ["BIOTECHNOLOGY [01]", "120", "MEXICO", "01", "2010", "2024-03", "2010"],
        ["TOTAL FOR ALL COMMODITIES", "900", "TOTAL FOR ALL COUNTRIES", "", "", "2024-03", ""],
    ]
    table = parse_table(body(data), "imports", 2024)
    assert table.rows == [
        ("2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", "120", "2024-03"),
        ("", "TOTAL FOR ALL COUNTRIES", "", "TOTAL FOR ALL COMMODITIES", "900", "2024-03"),
    ]
    assert table.months == ["2024-03"]


@pytest.mark.parametrize("marker", ["-", "", " - ", "  "])
def test_dash_and_empty_string_both_mark_a_total(marker):
    assert normalize_total(marker) == "-"
    assert normalize_total(" 0003 ") == "0003"


def test_a_dash_total_and_an_empty_total_for_the_same_month_are_duplicates():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "ALL_VAL_MO", "time"]
    total = "TOTAL FOR ALL COUNTRIES"
    data = [header, ["-", total, "-", "T", "5", "2024-01"], ["", total, "", "T", "5", "2024-01"]]
    with pytest.raises(CensusResponseError, match="duplicate row"):
        parse_table(body(data), "exports", 2024)


@pytest.mark.parametrize("value", ["-5", "12.5", "1e9", "N/A", " 7", "(D)", "1,234", " ", 7])
def test_a_value_that_is_not_a_whole_number_of_dollars_is_refused(value):
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    data = [header, ["2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", value, "2024-01"]]
    with pytest.raises(CensusResponseError, match=r"row 1 \(2010 / 01 / 2024-01\) has GEN_VAL_MO="):
        parse_table(body(data), "imports", 2024)


def test_an_empty_or_null_value_is_a_missing_value_not_zero_nor_an_error():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    data = [
        header,
        ["2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", "", "2024-01"],
        ["2010", "MEXICO", "02", "LIFE SCIENCE [02]", None, "2024-01"],
        ["2010", None, "03", "OPTO-ELECTRONICS [03]", "0", "2024-01"],
    ]
    table = parse_table(body(data), "imports", 2024)
    assert table.missing_values == 2
    assert [row[4] for row in table.rows] == [None, None, "0"]
    assert table.rows[2][1] == ""  # a null name reads as "", as before
    full = parse_table(body([header, data[3]]), "imports", 2024)
    assert full.missing_values == 0


def _rows_2024():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    rows = [
        ["2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", "120", "2024-03"],
        ["2010", "MEXICO", "02", "LIFE SCIENCE [02]", None, "2024-03"],
        ["-", "TOTAL FOR ALL COUNTRIES", "-", "TOTAL FOR ALL COMMODITIES", "900", "2024-03"],
        ["5700", "CHINA", "01", "BIOTECHNOLOGY [01]", "7", "2024-04"],
    ]
    return header, rows


def test_the_content_hash_ignores_row_and_column_order():
    header, rows = _rows_2024()
    table = parse_table(body([header, *rows]), "imports", 2024)
    assert len(table.content_hash) == 64 and int(table.content_hash, 16) >= 0
    reordered = parse_table(body([header, *reversed(rows)]), "imports", 2024)
    assert reordered.content_hash == table.content_hash
    # The same columns in another order, with an appended predicate column.
    order = [5, 3, 0, 4, 2, 1]
    moved = [[header[i] for i in order] + ["HITECH"]]
    moved += [[row[i] for i in order] + [row[2]] for row in rows[::-1]]
    assert parse_table(body(moved), "imports", 2024).content_hash == table.content_hash


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [(0, 4, "121"), (1, 4, "0"), (0, 1, "MEXICO "), (2, 0, ""), (3, 5, "2024-05")],
)
def test_the_content_hash_changes_with_any_cell(row, column, value):
    header, rows = _rows_2024()
    table = parse_table(body([header, *rows]), "imports", 2024)
    changed = [list(r) for r in rows]
    changed[row][column] = value
    assert parse_table(body([header, *changed]), "imports", 2024).content_hash != table.content_hash


def test_the_content_hash_tells_a_missing_value_from_a_dropped_row():
    header, rows = _rows_2024()
    table = parse_table(body([header, *rows]), "imports", 2024)
    without = parse_table(body([header, *rows[:1], *rows[2:]]), "imports", 2024)
    assert without.content_hash != table.content_hash


def test_a_month_outside_the_requested_year_is_refused():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    data = [header, ["2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", "1", "2023-12"]]
    with pytest.raises(CensusResponseError, match="outside the requested year 2024"):
        parse_table(body(data), "imports", 2024)


def test_the_wrong_value_column_for_the_flow_is_a_missing_column():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    data = [header, ["2010", "MEXICO", "01", "BIOTECHNOLOGY [01]", "1", "2024-01"]]
    with pytest.raises(CensusResponseError, match="lacks the column.*ALL_VAL_MO"):
        parse_table(body(data), "exports", 2024)


def test_truncated_json_is_reported_as_malformed():
    with pytest.raises(MalformedJson):
        parse_table(b'[["CTY_CODE","CTY_NAME"],["2010","MEX', "imports", 2024)


def test_an_object_instead_of_rows_is_refused():
    with pytest.raises(CensusResponseError, match="not a JSON array of rows"):
        parse_table(b'{"error": "x"}', "imports", 2024)


def _full_answer(year: int) -> list[list[str]]:
    """An everyday answer: every partner x HITECH x month, totals marked "-", extra columns."""
    header = ["CTY_NAME", "GEN_VAL_MO", "HITECH", "time", "CTY_CODE", "HITECH_DESC", "COMM_LVL"]
    rows = [
        [
            f"PARTNER {code}",
            str(code * 31 + hitech * 7 + month),
            f"{hitech:02d}",
            f"{year}-{month:02d}",
            str(code),
            f"GROUP [{hitech:02d}]",
            "HT",
        ]
        for code in range(1000, 1040)
        for hitech in range(1, 11)
        for month in range(1, 13)
    ]
    rows += [["TOTAL FOR ALL COUNTRIES", "999", "-", f"{year}-01", "-", "ALL", "HT"]]
    return [header, *rows]


def test_the_column_checks_read_an_everyday_answer_exactly_as_the_row_checks_do():
    data = _full_answer(2024)
    header, body_rows = data[0], data[1:]
    positions = tuple(header.index(name) for name in HITECH.columns("imports"))
    months = {f"2024-{m:02d}" for m in range(1, 13)}
    args = (HITECH.columns("imports"), "imports", 2024, header, body_rows, positions, months)
    fast = census_format._well_formed_rows(*args)
    assert fast is not None  # the everyday answer takes the column checks
    assert fast == census_format._checked_row_by_row(*args)
    rows, present, missing_values = fast
    assert (len(rows), present, missing_values) == (40 * 10 * 12 + 1, months, 0)
    table = parse_table(body(data), "imports", 2024)
    assert (table.rows, table.months) == (rows, sorted(months))


@pytest.mark.parametrize(
    ("row", "column", "value", "error"),
    [
        (5, 1, "", None),  # a missing value: read by the row checks, not refused
        (7, 1, 12, "row 7 .* has GEN_VAL_MO=12"),  # a number, not a string
        (8, 1, "\u0661", "row 8 .* has GEN_VAL_MO="),  # a digit, but not an ASCII one
        (9, 0, None, None),  # a null name reads as ""
        (10, 3, "2023-12", "row 10 has time='2023-12'"),
        (13, 2, "01", "duplicate row for CTY_CODE='1000', HITECH='01', time=2024-01"),
        (-1, 4, "", "duplicate row for CTY_CODE='', HITECH='-'"),  # "" and "-" both total
    ],
)
def test_an_answer_off_the_everyday_shape_gets_the_row_checks(row, column, value, error):
    data = _full_answer(2024)
    if row == -1:  # a second all-countries total (its code set to "" below)
        data.append(["TOTAL FOR ALL COUNTRIES", "1", "-", "2024-01", "-", "ALL", "HT"])
    data[row][column] = value
    if error:
        with pytest.raises(CensusResponseError, match=error):
            parse_table(body(data), "imports", 2024)
    else:
        table = parse_table(body(data), "imports", 2024)
        assert len(table.rows) == len(data) - 1
        assert table.missing_values == (1 if value == "" else 0)


@pytest.mark.parametrize(
    "cell", ['quote " and \\ backslash', "control \x00\x1f\t\n\r\b\f", "é ü \u2028 \U0001f600", "/"]
)
def test_the_content_hash_is_the_sha256_of_the_compact_json_earlier_versions_stored(cell):
    # Vintages stored before keep their hash: the same content must give the same hash.
    columns = ("CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time")
    rows = [
        ("2010", cell, "01", "B [01]", None, "2024-01"),
        ("1000", "X", "02", cell, "5", "2024-02"),
    ]
    ordered = sorted(rows, key=lambda r: (r[0], r[2], r[5]))
    text = json.dumps([list(columns), *ordered], ensure_ascii=False, separators=(",", ":"))
    assert census_format.content_hash(columns, rows) == hashlib.sha256(text.encode()).hexdigest()


def test_json_that_only_python_reads_is_checked_not_called_malformed():
    header = ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    data = b'[%s, ["2010", "MEXICO", "01", "B [01]", NaN, "2024-01"]]'
    with pytest.raises(CensusResponseError, match=r"row 1 .* has GEN_VAL_MO=nan, which is not"):
        parse_table(data % json.dumps(header).encode(), "imports", 2024)


def test_a_product_answer_is_read_by_the_same_checks_as_its_declaration_says():
    # The hs endpoint's answer: the pinned predicates and the repeated commodity predicate are
    # appended to the header (the commodity column twice); the first occurrence counts.
    header = [
        "CTY_CODE", "CTY_NAME", "E_COMMODITY", "E_COMMODITY_SDESC", "ALL_VAL_MO",
        "COMM_LVL", "SUMMARY_LVL", "E_COMMODITY", "time",
    ]  # fmt: skip
    rows = [
        ["2010", "MEXICO", "8471300100", "PORTABLE COMPUTERS", "1200", "HS10", "DET",
         "8471300100", "2024-03"],
        ["2010", "MEXICO", "8542310000", "PROCESSORS", "", "HS10", "DET", "8542310000",
         "2024-03"],
        ["-", "TOTAL FOR ALL COUNTRIES", "8471300100", "PORTABLE COMPUTERS", "9000", "HS10",
         "DET", "8471300100", "2024-03"],
    ]  # fmt: skip
    table = parse_table(body([header, *rows]), "exports", 2024, HS)
    assert table.columns == (
        "CTY_CODE", "CTY_NAME", "E_COMMODITY", "E_COMMODITY_SDESC", "ALL_VAL_MO", "time",
    )  # fmt: skip
    assert table.rows[1] == ("2010", "MEXICO", "8542310000", "PROCESSORS", None, "2024-03")
    assert (table.months, table.missing_values, table.dataset) == (["2024-03"], 1, HS)
    duplicate = [header, rows[0], rows[0]]
    with pytest.raises(CensusResponseError, match="E_COMMODITY='8471300100', time=2024-03"):
        parse_table(body(duplicate), "exports", 2024, HS)
    # The same rows under the hitech declaration lack its columns.
    with pytest.raises(CensusResponseError, match="lacks the column.s. HITECH, HITECH_DESC"):
        parse_table(body([header, *rows]), "exports", 2024)
