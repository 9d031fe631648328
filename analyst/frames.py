"""Mart tables as pandas DataFrames, for notebooks and scripts: the published copy, read-only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analyst.queries import AnalystError, open_published
from ingest.settings import published_path
from ingest.warehouse import MARTS, mart_tables


def frame(table: str, *, published: Path | str | None = None, **equals) -> pd.DataFrame:
    """The rows of one mart table, e.g. `frame("fct_atp_partner_year", year=2024)`; each keyword
    keeps the rows whose column equals the value, a text value in any case (partner_name="MEXICO"
    or "Mexico"). `published` defaults to ATP_PUBLISHED."""
    path = Path(published).expanduser().resolve() if published else published_path()
    with open_published(path, required=()) as con:
        tables = mart_tables(con)
        if table not in tables:
            raise AnalystError(f"no mart table {table!r}; the tables are {', '.join(tables)}.")
        columns = [row[0] for row in con.execute(f"DESCRIBE {MARTS}.{table}").fetchall()]
        unknown = sorted(set(equals) - set(columns))
        if unknown:
            raise AnalystError(
                f"{table} has no column {', '.join(unknown)}; its columns are {', '.join(columns)}."
            )
        where = " AND ".join(_equals(name, value) for name, value in equals.items()) or "true"
        query = f"SELECT * FROM {MARTS}.{table} WHERE {where} ORDER BY ALL"
        return con.execute(query, list(equals.values())).df()


def _equals(column: str, value: object) -> str:
    # Text compares without case: the marts spell names "Korea, South", Census "KOREA, SOUTH".
    if isinstance(value, str):
        return f'lower(CAST("{column}" AS VARCHAR)) = lower(?)'
    return f'"{column}" = ?'
