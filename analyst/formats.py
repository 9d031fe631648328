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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

MISSING = "n/a"

# Every table and chart says where its numbers come from.
SOURCE = "Source: U.S. Census Bureau, International Trade API, advanced technology products."


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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_value(value) for value in row])
    return out.getvalue().rstrip("\n")


def render_json(document: Any) -> str:
    """JSON (indented): numbers as numbers at full precision, NULL (and NaN, infinity) as null,
    dates and timestamps in ISO 8601."""
    return json.dumps(json_value(document), indent=2, ensure_ascii=False)


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


def bn(value: float | None, sign: bool = False) -> str:
    """Dollars as billions with two decimals: 120,000,000,000 -> '120.00' (or '+120.00')."""
    if value is None:
        return MISSING
    return f"{value / 1e9:+,.2f}" if sign else f"{value / 1e9:,.2f}"


def pct(value: float | None, sign: bool = True) -> str:
    """A percentage with one decimal: 25.0 -> '+25.0' (or '25.0')."""
    if value is None:
        return MISSING
    return f"{value:+.1f}" if sign else f"{value:.1f}"


_SMALL_WORDS = frozenset({"and", "of", "the", "da", "de", "du", "la", "le"})


def title_name(name: str) -> str:
    """Census names are upper case: MEXICO -> Mexico, KOREA, SOUTH -> Korea, South,
    GUINEA-BISSAU -> Guinea-Bissau, BOSNIA AND HERZEGOVINA -> Bosnia and Herzegovina; a name in
    mixed case is kept as it is."""
    if not name.isupper():
        return name
    # Split keeping the separators (", ", "-", " ("), capitalise each word; small words stay
    # lower case unless they start the name or follow a comma ("BAHAMAS, THE" -> "Bahamas, The").
    words = re.split(r"(\W+)", name.lower())
    return "".join(
        w[:1].upper() + w[1:] if i == 0 or w not in _SMALL_WORDS or "," in words[i - 1] else w
        for i, w in enumerate(words)
    )


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
