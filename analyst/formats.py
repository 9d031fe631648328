"""Output formats of the `atp` analyst commands: aligned text, GitHub markdown, CSV and JSON.

A command builds `Table`s: machine column names with raw values (for CSV and JSON: whole
dollars, percentages at full precision, NULL as empty / null) and, for people, headers with
display strings (for the aligned text and markdown). Standard library only: `atp` starts fast.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, localcontext
from typing import Any
from urllib.parse import urlsplit

MISSING = "n/a"

# Every table and chart says where its numbers come from: `source_line(publication)` picks the
# line for a published copy; SOURCE is the Census one.
SOURCE = "Source: U.S. Census Bureau, International Trade API, advanced technology products."
DEMO_SOURCE = "Demo data, not from the Census Bureau (made up by `make demo` to try the tools)."
CENSUS_API_HOST = "api.census.gov"


def source_line(publication: Mapping[str, Any] | None = None) -> str:
    """Where a published copy's numbers come from, from its `main.publication` row: demo data,
    an API other than the Census Bureau's (named by its host), or the Census Bureau. A copy
    published before `source_api` and `demo` were recorded (or no row at all) counts as Census."""
    publication = publication or {}
    if publication.get("demo"):
        return DEMO_SOURCE
    api = (publication.get("source_api") or "").strip()
    if not api:
        return SOURCE
    try:
        parsed = urlsplit(api if "//" in api else f"//{api}")
        host = parsed.hostname
    except ValueError:
        host = None
    if host and host.lower() == CENSUS_API_HOST:
        return SOURCE
    return f"Source: API at {host or api}, not the Census Bureau (advanced technology products)."


def is_census(publication: Mapping[str, Any] | None = None) -> bool:
    """True when the copy's numbers come from the Census Bureau's API (see `source_line`)."""
    return source_line(publication) == SOURCE


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 source', '3 sources' ('1 country', '2 countries' with nouns='countries')."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def period_and_basis(year: int, months: int) -> tuple[str, str]:
    """A title's period (", Jan-Sep" for a year in progress, "" for a full one) and what its
    YoY compares with."""
    if months == 12:
        return "", f"YoY vs {year - 1}"
    return f", Jan-{calendar.month_abbr[months]}", f"YoY vs the same {months} months of {year - 1}"


@dataclass
class Table:
    columns: list[str]
    rows: list[Sequence[Any]]
    title: str | None = None
    headers: list[str] | None = None  # for people; default: the column names
    display: list[list[str]] | None = None  # display strings; default: the raw values as text
    left: set[int] | None = None  # left-aligned columns; default: those that are not numbers
    total_rows: int = 0  # the last rows are totals: a rule above them (text), bold (markdown)
    notes: list[str] = field(default_factory=list)
    empty: str = "(no rows)"

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def _headers(self) -> list[str]:
        return self.headers if self.headers is not None else list(self.columns)

    def _cells(self) -> list[list[str]]:
        if self.display is not None:
            return self.display
        return [[text_value(value) for value in row] for row in self.rows]

    def _left(self) -> set[int]:
        if self.left is not None:
            return self.left
        return {
            i
            for i in range(len(self.columns))
            if not all(_is_number(row[i]) for row in self.rows if row[i] is not None)
            or all(row[i] is None for row in self.rows)
        }


# -- rendering ------------------------------------------------------------------------------


def render_text(table: Table) -> str:
    """Aligned columns (two spaces apart): text left, numbers right; a rule above totals."""
    headers = table._headers()
    lines = [table.title] if table.title else []
    cells = table._cells()
    if not cells:
        return "\n".join([*lines, table.empty, *table.notes])
    grid = [headers, *cells]
    widths = [max(len(row[i]) for row in grid) for i in range(len(headers))]
    left = table._left()
    first_total = len(grid) - table.total_rows
    for i, row in enumerate(grid):
        if table.total_rows and i == first_total:
            lines.append("  ".join("-" * w for w in widths))
        aligned = [
            cell.ljust(w) if j in left else cell.rjust(w)
            for j, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(aligned).rstrip())
    return "\n".join(lines + table.notes)


def render_markdown(table: Table) -> str:
    """A GitHub table; the title above it in bold, the notes below it."""
    headers = table._headers()
    left = table._left()
    parts = [f"**{_md(table.title)}**", ""] if table.title else []
    cells = table._cells()
    if not cells:
        return "\n\n".join([*parts[:1], _md(table.empty), *(_md(n) for n in table.notes)])
    parts.append("| " + " | ".join(_md(h) for h in headers) + " |")
    parts.append(
        "| " + " | ".join(":---" if i in left else "---:" for i in range(len(headers))) + " |"
    )
    first_total = len(cells) - table.total_rows
    for i, row in enumerate(cells):
        if i >= first_total:
            row = [f"**{_md(c)}**" if c else "" for c in row]
        else:
            row = [_md(c) for c in row]
        parts.append("| " + " | ".join(row) + " |")
    for note in table.notes:
        parts += ["", _md(note)]
    return "\n".join(parts)


def render_csv(table: Table) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field, numbers at full precision."""
    return "".join(csv_pieces(table.columns, table.rows))


def csv_pieces(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV of `render_csv` in pieces, one per record, produced as the rows come (their
    concatenation is the whole text): a result of any size is written without being held."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    pending = out.getvalue()[:-1]  # each record's line end goes before the next record
    for row in rows:
        out.seek(0)
        out.truncate()
        writer.writerow([csv_value(value) for value in row])
        yield pending
        pending = "\n" + out.getvalue()[:-1]
    yield pending


def render_json(document: Any) -> str:
    """JSON (indented): numbers as numbers at full precision, NULL (and NaN, infinity) as null,
    dates and timestamps in ISO 8601."""
    return json.dumps(json_value(document), indent=2, ensure_ascii=False)


def json_pieces(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """`render_json` of a list of records in pieces, one per record, produced as they come
    (their concatenation is the whole text)."""
    opening = "["
    for record in records:
        # An element of an indented list: its own lines one level in.
        yield opening + "\n  " + render_json(record).replace("\n", "\n  ")
        opening = ","
    yield "[]" if opening == "[" else "\n]"


def render_tables(tables: Sequence[Table], fmt: str, json_document: Any = None) -> str:
    """Several tables one after the other (text, markdown), or one JSON document."""
    if fmt == "json":
        return render_json(json_document)
    if fmt == "markdown":
        return "\n\n".join(render_markdown(t) for t in tables)
    if fmt == "csv":
        if len(tables) != 1:
            raise ValueError("CSV holds one table")
        return render_csv(tables[0])
    return "\n\n".join(render_text(t) for t in tables)


# -- values ---------------------------------------------------------------------------------


def text_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(json_value(value), ensure_ascii=False)
    return str(value)


def csv_value(value: Any) -> str:
    return "" if value is None else text_value(value)


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def fixed(value: float | None, decimals: int, sign: bool = False) -> str:
    """A number with `decimals` decimals and thousands separators; a non-zero value that would
    round to 0 gets as many more decimals as it takes to show its first digit (0.004, never 0.00,
    -0.00 or +0.00). Zero itself is '0.00', without a sign."""
    if value is None:
        return MISSING
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return f"{0:.{decimals}f}"
    while round(abs(value), decimals) == 0 and decimals < 15:
        decimals += 1
    return f"{value:+,.{decimals}f}" if sign else f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class Unit:
    """How a table shows dollars: $ bn, or $ mn when its largest value is under a billion."""

    divisor: float
    label: str  # for headers: "$bn", "$mn"
    words: str  # for sentences: "$ billions"
    noun: str = ""  # after an amount: "$4.00 million"


BILLIONS = Unit(1e9, "$bn", "$ billions", "billion")
MILLIONS = Unit(1e6, "$mn", "$ millions", "million")


def money_unit(values: Iterable[float | None]) -> Unit:
    """The unit for a table's dollar values: billions, or millions when the largest (absolute)
    value is under one billion, so that small partners do not read as 0.00."""
    largest = max((abs(v) for v in values if v is not None), default=0)
    return BILLIONS if largest >= 1e9 or largest == 0 else MILLIONS


def money(value: float | None, unit: Unit = BILLIONS, sign: bool = False) -> str:
    """Dollars in `unit` with two decimals (more for a small non-zero value, see `fixed`)."""
    return MISSING if value is None else fixed(value / unit.divisor, 2, sign)


def money_words(value: float | None, sign: bool = False) -> str:
    """Dollars for a sentence, in the unit the value needs (`money_unit`), by `money`: never
    0.00 for a value that is not zero: '$102.48 billion', '-$4.00 million', '+$24.00 billion'."""
    if value is None:
        return MISSING
    unit = money_unit([value])
    lead = "-" if value < 0 else ("+" if sign and value > 0 else "")
    return f"{lead}${money(abs(value), unit)} {unit.noun}"


def bn(value: float | None, sign: bool = False) -> str:
    """Dollars as billions with two decimals: 120,000,000,000 -> '120.00' (or '+120.00');
    4,000,000 -> '0.004', not '0.00'."""
    return money(value, BILLIONS, sign)


def pct(value: float | None, sign: bool = True) -> str:
    """A percentage with one decimal: 25.0 -> '+25.0' (or '25.0'); 0.04 -> '+0.04'; 0 -> '0.0'."""
    return fixed(value, 1, sign)


def sql_display(table: Table, align: bool = True) -> list[list[str]]:
    """Display strings of an `atp sql` result for people: integers with thousands separators
    (not in a column named year or ..._year), every number with the digits it has (see
    `_sql_number`), never in scientific notation, and (align=True) padded so that a column's
    decimal points line up."""
    cells = [[text_value(v) for v in row] for row in table.rows]
    for j, name in enumerate(table.columns):
        separators = not re.search(r"(^|_)year$", name, re.I)
        texts = []
        for i, row in enumerate(table.rows):
            value = row[j]
            if _is_number(value):
                cells[i][j] = _sql_number(value, separators)
                texts.append(i)
        if not align or not texts:
            continue
        fractions = {i: cells[i][j].partition(".")[2] for i in texts if _numeric(cells[i][j])}
        width = max((len(f) for f in fractions.values()), default=0)
        if width:
            for i, fraction in fractions.items():
                dot = "." in cells[i][j]
                cells[i][j] += " " * (width - len(fraction) + (0 if dot else 1))
    return cells


# A double is shown with the digits it has: its shortest repr (9.0 -> '9', round(x, 2) ->
# -298.95), never padded with zeros. DBL_DIG: a repr of at most 15 significant digits is a
# decimal the double holds exactly (a literal, a rounded value); a longer one is arithmetic
# (100 * 120 / 392.4 = 30.58103975535168), shown to RAW_DIGITS significant digits (30.581).
EXACT_DIGITS = 15
RAW_DIGITS = 6


def _sql_number(value: int | float | Decimal, separators: bool) -> str:
    if isinstance(value, int):
        return f"{value:,}" if separators else str(value)
    if isinstance(value, Decimal):  # a DECIMAL column keeps its scale: DECIMAL(18,2) 1.50
        if not value.is_finite():
            return str(value)
        return f"{value:,f}" if separators else f"{value:f}"
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    shown = _float_digits(value)
    return f"{shown:,f}" if separators else f"{shown:f}"


def _float_digits(value: float) -> Decimal:
    """A double as the decimal it shows: its shortest repr, or for an arithmetic result that
    rounded to RAW_DIGITS significant digits (never fewer than its whole part), zeros dropped."""
    shortest = Decimal(repr(value))
    if len(shortest.as_tuple().digits) > EXACT_DIGITS:
        decimals = max(0, RAW_DIGITS - 1 - math.floor(math.log10(abs(value))))
        with localcontext(prec=400):
            shortest = shortest.quantize(Decimal(1).scaleb(-decimals))
    return shortest.normalize()  # 9.0 -> 9, 1E+2 (written out by format "f": 100)


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]+(\.\d*)?", text))


def one_line(message: object) -> str:
    """An error message on one line: DuckDB's 'LINE 1:' excerpt and caret lines dropped."""
    kept = []
    for line in str(message).splitlines():
        text = line.strip()
        if not text or text.startswith("LINE ") or set(text) <= {"^"}:
            continue
        kept.append(text)
    return " ".join(kept) or str(message).strip()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
