"""DuckDB's checks of a partition's answers (ingest.answer_files): the rules and the one-line
errors of census_format, over several answer files at once, and the same content hash."""

from __future__ import annotations

import json

import orjson
import pytest

from ingest.answer_files import AnswerFile, check_answer_files
from ingest.census_format import parse_table
from ingest.datasets import HS
from ingest.errors import CensusResponseError

HEADER = [*HS.columns("imports"), "COMM_LVL", "SUMMARY_LVL", "I_COMMODITY"]


def _row(cty, code, value, month, name="MEXICO", description="COMPUTERS"):
    return [cty, name, code, description, value, month, "HS10", "DET", code]


def _answer(tmp_path, name, rows, codes, first=1, last=12, header=HEADER) -> AnswerFile:
    path = tmp_path / f"{name}.json"
    path.write_bytes(orjson.dumps([header, *rows]))
    return AnswerFile(path, tuple(codes), first, last, f"{name}, months {first:02d}..{last:02d}")


def _check(*answers):
    return check_answer_files(HS, "imports", 2024, list(answers))


def test_two_answers_are_summed_up_as_census_format_reads_them_one_by_one(tmp_path):
    first = _answer(
        tmp_path,
        "a",
        [_row("2010", "8471500150", "1200", "2024-01"), _row("5700", "8471500150", "", "2024-02")],
        ["8471500150"],
    )
    second = _answer(
        tmp_path, "b", [_row("2010", "8517130000", "77", "2024-03")], ["8517130000"], 3, 3
    )
    checked = _check(first, second)
    assert (checked.row_count, checked.missing_values) == (3, 1)
    assert checked.months == ["2024-01", "2024-02", "2024-03"]
    assert checked.columns == tuple(HS.columns("imports"))
    # The content hash is census_format's over the rows of both answers together.
    rows = [
        row
        for answer in (first, second)
        for row in parse_table(answer.path.read_bytes(), "imports", 2024, HS).rows
    ]
    combined = orjson.dumps([HEADER, *(list(r) + ["HS10", "DET", r[2]] for r in rows)])
    assert checked.content_hash == parse_table(combined, "imports", 2024, HS).content_hash


def test_the_content_hash_equals_census_formats_with_control_characters_in_a_name(tmp_path):
    name = "ODD\x1fNAME\tWITH\x0bCONTROLS \u00e9"
    answer = _answer(
        tmp_path, "a", [_row("2010", "8471500150", "5", "2024-01", name=name)], ["8471500150"]
    )
    expected = parse_table(answer.path.read_bytes(), "imports", 2024, HS)
    assert _check(answer).content_hash == expected.content_hash


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            _row("2010", "8471500150", "12.5", "2024-01"),
            "imports 2024: the answer for a, months 01..12: row 1 (2010 / 8471500150 / 2024-01) "
            "has GEN_VAL_MO='12.5', which is not a non-negative whole number of dollars",
        ),
        (
            _row("2010", "8471500150", "1", "2023-12"),
            "imports 2024: the answer for a, months 01..12: row 1 has time='2023-12', outside "
            "the requested year 2024.",
        ),
        (
            _row("2010", "9999999999", "1", "2024-01"),
            "imports 2024: the answer for a, months 01..12: row 1 holds I_COMMODITY='9999999999', "
            "time=2024-01, which it did not ask for. Nothing was written.",
        ),
        (
            _row("2010", "8471500150", "1", "2024-01")[:5],
            "imports 2024: the answer for a, months 01..12: row 1 has 5 fields, the header has 9.",
        ),
    ],
    ids=["not-whole-dollars", "another-year", "unasked-code", "short-row"],
)
def test_a_bad_row_is_named_by_its_answer_and_row(tmp_path, row, message):
    answer = _answer(tmp_path, "a", [row], ["8471500150"])
    with pytest.raises(CensusResponseError) as raised:
        _check(answer)
    assert str(raised.value).startswith(message)


def test_a_month_outside_the_answers_request_is_unasked(tmp_path):
    answer = _answer(
        tmp_path, "a", [_row("2010", "8471500150", "1", "2024-07")], ["8471500150"], 1, 6
    )
    with pytest.raises(CensusResponseError, match="which it did not ask for"):
        _check(answer)


def test_a_row_in_two_answers_is_a_duplicate(tmp_path):
    row = _row("2010", "8471500150", "1", "2024-01")
    # A total spelt "-" in one answer and "" in the other is the same key.
    first = _answer(tmp_path, "a", [row, _row("-", "8471500150", "3", "2024-01")], ["8471500150"])
    second = _answer(tmp_path, "b", [row], ["8471500150"])
    with pytest.raises(CensusResponseError, match="2010.*8471500150.*2024-01"):
        _check(first, second)
    third = _answer(tmp_path, "c", [_row("", "8471500150", "3", "2024-01")], ["8471500150"])
    with pytest.raises(CensusResponseError, match="8471500150.*2024-01"):
        _check(first, third)


def test_an_answer_that_is_not_json_is_named(tmp_path):
    good = _answer(tmp_path, "a", [_row("2010", "8471500150", "1", "2024-01")], ["8471500150"])
    bad = tmp_path / "b.json"
    bad.write_text("<html><body>Service Unavailable</body></html>")
    broken = AnswerFile(bad, ("8517130000",), 1, 12, "8517130000, months 01..12")
    with pytest.raises(CensusResponseError) as raised:
        _check(good, broken)
    assert str(raised.value) == (
        "imports 2024: the answer for 8517130000, months 01..12 is not a JSON array of rows. "
        "Nothing was written."
    )


def test_a_header_only_answer_and_a_missing_column_are_refused(tmp_path):
    empty = _answer(tmp_path, "a", [], ["8471500150"])
    with pytest.raises(CensusResponseError, match="holds only a header row and no data"):
        _check(empty)
    header = [name for name in HEADER if name != "GEN_VAL_MO"]
    lacking = _answer(tmp_path, "b", [], ["8471500150"], header=header)
    with pytest.raises(CensusResponseError, match=r"lacks the column\(s\) GEN_VAL_MO"):
        _check(lacking)


def test_answers_with_their_columns_in_another_order_are_refused(tmp_path):
    first = _answer(tmp_path, "a", [_row("2010", "8471500150", "1", "2024-01")], ["8471500150"])
    reordered = [HEADER[1], HEADER[0], *HEADER[2:]]
    row = _row("2010", "8517130000", "1", "2024-01")
    second = _answer(tmp_path, "b", [[row[1], row[0], *row[2:]]], ["8517130000"], header=reordered)
    with pytest.raises(CensusResponseError, match="columns in another order"):
        _check(first, second)
    assert json.loads(second.path.read_bytes())[0] == reordered


def test_a_bad_row_deep_in_a_later_answer_is_named_by_its_own_row_number(tmp_path):
    codes = [f"84715{n:05d}" for n in range(300)]
    rows = [_row("2010", code, "1", f"2024-{m:02d}") for code in codes for m in range(1, 13)]
    first = _answer(tmp_path, "a", rows[:1800], codes[:150])
    later = rows[1800:]
    later[1499] = _row("2010", later[1499][2], "x", later[1499][5])
    second = _answer(tmp_path, "b", later, codes[150:])
    with pytest.raises(CensusResponseError) as raised:
        _check(first, second)
    assert str(raised.value).startswith(
        f"imports 2024: the answer for b, months 01..12: row 1500 (2010 / {later[1499][2]} / "
    )
