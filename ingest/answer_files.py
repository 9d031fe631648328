"""A partition's answers, written to files as they arrive, checked by DuckDB: product detail's
rows (~250,000 a flow-year) never become Python objects.

The rules are census_format's, with its one-line errors, run in SQL over every answer of the
partition, plus one: an answer holds only the item codes and months it asked for, so no row
comes from two answers. One is looser: DuckDB reads every cell as text, so a number where the
API sends a string is read as its digits, where census_format refuses it. The content hash is
census_format's too (the same bytes are hashed; a test compares the two).

DuckDB works within MEMORY_LIMIT and spills what it holds to a temporary folder: a flow-year of
250,000 rows is checked in 0.5 s and about 150 MB (bench/README.md, "Product detail").
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from ingest.census_format import check_header
from ingest.datasets import CensusDataset
from ingest.errors import CensusResponseError, WarehouseError

# Each answer is a JSON array of rows, read a row at a time (DuckDB streams the array and spills
# what it holds to disk), each file's rows in their order: insertion order is preserved.
_READ = (
    "read_json(?, format = 'array', records = false, columns = {'json': 'VARCHAR[]'}, "
    "filename = true)"
)
MEMORY_LIMIT = "128MB"  # as the warehouse's (ingest.warehouse.DUCKDB_CONFIG)
_HASH_BATCH_ROWS = 20_000
# DuckDB's JSON writer spells a control character's escape in capitals (\u001F), orjson (whose
# bytes define the content hash) in small letters; only these differ (\b \t \n \f \r are short).
_CAPITAL_ESCAPES = ("000B", "000E", "000F", "001A", "001B", "001C", "001D", "001E", "001F")


@dataclass(frozen=True)
class AnswerFile:
    """One answer on disk and what it asked for: its item codes and months of the year."""

    path: Path
    codes: tuple[str, ...]
    first_month: int
    last_month: int
    label: str  # names the request in errors: "230 codes from 8471..., months 01..12"


@dataclass(frozen=True)
class CheckedAnswers:
    """What a CensusTable says of one answer, for a partition's answers together (the rows
    stay in the files). The loader and the landing zone read either."""

    dataset: CensusDataset
    flow: str
    year: int
    columns: tuple[str, ...]
    header_positions: tuple[int, ...]  # the same in every answer: the same request shape
    months: list[str]
    missing_values: int
    row_count: int
    content_hash: str


def check_answer_files(
    dataset: CensusDataset, flow: str, year: int, answers: Sequence[AnswerFile]
) -> CheckedAnswers:
    """Check every answer; raise CensusResponseError naming the answer and the row at fault."""
    assert answers, "a partition's answers are checked only when there are some"
    where = f"{flow} {year}"
    try:
        return _check(dataset, flow, year, answers, where)
    except (duckdb.OutOfMemoryException, duckdb.IOException) as exc:
        first = str(exc).splitlines()[0]
        raise WarehouseError(
            f"{where}: DuckDB could not check the answers ({first}). Nothing was written; free "
            "memory or disk space in the temporary folder, then run again."
        ) from None


def _check(dataset, flow, year, answers, where) -> CheckedAnswers:
    with (
        tempfile.TemporaryDirectory(prefix="atp-answers-") as spill,
        duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill}) as con,
    ):
        _read(con, answers, where)
        headers = con.execute(
            "SELECT answer, header, length FROM firsts ORDER BY answer"
        ).fetchall()
        positions: tuple[int, ...] | None = None
        for number, names, length in headers:
            subject = f"the answer for {answers[number].label}"
            if not names or None in names:
                raise CensusResponseError(
                    f"{where}: {subject} does not start with a header row of column names. "
                    "Nothing was written."
                )
            found = check_header(names, flow, year, dataset, subject)
            if length < 2:
                raise CensusResponseError(
                    f"{where}: {subject} holds only a header row and no data (the API answers "
                    "204 when a period is not released). Nothing was written."
                )
            if positions is not None and found != positions:
                raise CensusResponseError(
                    f"{where}: {subject} has its columns in another order than the year's "
                    "other answers. Nothing was written."
                )
            positions = found
        asked = [(number, code) for number, a in enumerate(answers) for code in a.codes]
        con.execute(
            "CREATE TEMP TABLE asked AS SELECT unnest(?::INTEGER[]) AS answer, "
            "unnest(?::VARCHAR[]) AS code",
            [[number for number, _ in asked], [code for _, code in asked]],
        )
        con.execute(
            "CREATE TEMP TABLE asked_months AS SELECT unnest(?::INTEGER[]) AS answer, "
            "unnest(?::VARCHAR[]) AS first_month, unnest(?::VARCHAR[]) AS last_month",
            [
                list(range(len(answers))),
                [_month(year, a.first_month) for a in answers],
                [_month(year, a.last_month) for a in answers],
            ],
        )
        columns = tuple(dataset.columns(flow))
        _rows_in_columns(con, columns, positions)
        _raise_first_fault(con, answers, columns, year, where)
        return _summary(con, dataset, flow, year, columns, positions)


def _month(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def _read(con: duckdb.DuckDBPyConnection, answers: Sequence[AnswerFile], where: str) -> None:
    """`lines`: every answer's rows (header first), and `firsts`: each answer's header row, where
    it starts and how many rows it has. All are read at once (DuckDB spreads the parse over its threads);
    when one cannot be, each is read alone to name it."""
    paths = [str(answer.path) for answer in answers]
    try:
        con.execute(
            "CREATE TEMP TABLE lines AS SELECT list_position(?, filename) - 1 AS answer, json "
            f"FROM {_READ}",
            [paths, paths],
        )
    except duckdb.InvalidInputException:  # not JSON, or not an array of arrays
        for answer in answers:
            try:
                con.execute(f"SELECT count(*) FROM {_READ}", [str(answer.path)]).fetchall()
            except duckdb.InvalidInputException:
                raise CensusResponseError(
                    f"{where}: the answer for {answer.label} is not a JSON array of rows. "
                    "Nothing was written."
                ) from None
        raise
    con.execute(
        "CREATE TEMP TABLE firsts AS SELECT answer, min(rowid) AS first, count(*) AS length, "
        "arg_min(json, rowid) AS header FROM lines GROUP BY answer"
    )
    found = {number for (number,) in con.execute("SELECT answer FROM firsts").fetchall()}
    for number, answer in enumerate(answers):
        if number not in found:  # an empty file, or "[]"
            raise CensusResponseError(
                f"{where}: the answer for {answer.label} is empty. Nothing was written."
            )


def _rows_in_columns(con, columns: tuple[str, ...], positions: tuple[int, ...]) -> None:
    """`rows`: each data row in the raw table's columns, as census_format reads it (a null code
    or name is "", an empty value is missing), numbered from 1 in its answer."""
    cty, name, item, description, value, month = (f"l.json[{p + 1}]" for p in positions)
    con.execute(f"""
        CREATE TEMP TABLE rows AS
        SELECT l.answer, l.rowid - f.first AS n, len(l.json) AS width,
            coalesce({cty}, '') AS cty, coalesce({name}, '') AS name,
            coalesce({item}, '') AS item, coalesce({description}, '') AS description,
            nullif({value}, '') AS value, coalesce({month}, '') AS month
        FROM lines AS l JOIN firsts AS f ON f.answer = l.answer
        WHERE l.rowid > f.first
    """)
    con.execute("DROP TABLE lines")  # (not needed any more: rows and firsts hold what counts)


def _raise_first_fault(con, answers, columns, year: int, where: str) -> None:
    """The first row (by answer, then row) that breaks a rule, named as census_format does."""
    item_column, value_column = columns[2], columns[4]
    fault = con.execute("""
        SELECT CASE
                WHEN r.width <> len(f.header) THEN 'width'
                WHEN NOT (r.value IS NULL OR regexp_full_match(r.value, '[0-9]+')) THEN 'value'
                WHEN NOT regexp_full_match(r.month, printf('%d-(0[1-9]|1[0-2])', ?)) THEN 'year'
                WHEN k.code IS NULL OR r.month NOT BETWEEN m.first_month AND m.last_month
                    THEN 'unasked'
            END AS fault,
            r.answer, r.n, r.width, len(f.header), r.cty, r.item, r.month, r.value
        FROM rows AS r
        JOIN firsts AS f USING (answer)
        JOIN asked_months AS m USING (answer)
        LEFT JOIN asked AS k ON k.answer = r.answer AND k.code = r.item
        WHERE fault IS NOT NULL
        ORDER BY r.answer, r.n
        LIMIT 1
    """, [year]).fetchone()  # fmt: skip
    if fault is not None:
        kind, number, n, width, header_width, cty, item, month, value = fault
        at = f"{where}: the answer for {answers[number].label}: row {n}"
        raise CensusResponseError(
            {
                "width": f"{at} has {width} fields, the header has {header_width}.",
                "value": (
                    f"{at} ({cty or '-'} / {item or '-'} / {month}) has {value_column}={value!r}, "
                    "which is not a non-negative whole number of dollars (an empty or null cell "
                    "is read as a missing value). Nothing was written."
                ),
                "year": f"{at} has time={month!r}, outside the requested year {year}.",
                "unasked": (
                    f"{at} holds {item_column}={item!r}, time={month}, which it did not ask for. "
                    "Nothing was written."
                ),
            }[kind]
        )
    # A partner or item code is one key whether the API spells a total "-" or "".
    duplicate = con.execute("""
        SELECT any_value(cty), any_value(item), month FROM rows
        GROUP BY CASE WHEN trim(cty) IN ('-', '') THEN '-' ELSE trim(cty) END,
            CASE WHEN trim(item) IN ('-', '') THEN '-' ELSE trim(item) END, month
        HAVING count(*) > 1
        LIMIT 1
    """).fetchone()  # fmt: skip
    if duplicate is not None:
        cty, item, month = duplicate
        raise CensusResponseError(
            f"{where}: duplicate row for CTY_CODE={cty!r}, {item_column}={item!r}, time={month}."
        )


def _summary(con, dataset, flow, year, columns, positions) -> CheckedAnswers:
    row_count, months, missing = con.execute(
        "SELECT count(*), list_sort(list_distinct(list(month))), count(*) FILTER (value IS NULL) "
        "FROM rows"
    ).fetchone()
    return CheckedAnswers(
        dataset=dataset,
        flow=flow,
        year=year,
        columns=columns,
        header_positions=positions,
        months=months,
        missing_values=missing,
        row_count=row_count,
        content_hash=_content_hash(con, columns),
    )


def _content_hash(con, columns: tuple[str, ...]) -> str:
    """census_format.content_hash of the rows, fed to sha256 a batch of sorted rows at a time
    (DuckDB's sort spills to disk; the year's text is never one string in memory)."""
    text = "to_json([cty, name, item, description, value, month])"
    fixed = text
    for escape in _CAPITAL_ESCAPES:
        fixed = f"replace({fixed}, '\\u{escape}', '\\u{escape.lower()}')"
    digest = hashlib.sha256(b"[" + orjson.dumps(list(columns)))
    result = con.execute(
        f"SELECT CASE WHEN contains({text}, '\\u00') THEN {fixed} ELSE {text} END "
        "FROM rows ORDER BY cty, item, month"
    )
    while batch := result.fetchmany(_HASH_BATCH_ROWS):
        digest.update(("," + ",".join(row for (row,) in batch)).encode())
    digest.update(b"]")
    return digest.hexdigest()
