"""The SQL of the README and docs/ (docs/analyst-guide.md holds the example queries) runs as
written: every example (the ```sql blocks, and the queries inside `atp sql "..."`,
`con.sql("...")` and inline `SELECT ...` code) qualifies its tables (marts., main., or a table
function) and returns rows through a plain read-only DuckDB connection to the published copy, not
through `atp sql` (whose search path would hide a missing `marts.`)."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = "\n".join(doc.read_text(encoding="utf-8") for doc in DOCS)
BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.S)
INLINE = [
    *re.findall(r'atp sql "([^"]+)"', README),
    *re.findall(r'con\.sql\("([^"]+)"\)', README),
    *re.findall(r"`(SELECT [^`]+)`", README),
]
# A placeholder such as "SELECT … FROM marts.x …" is checked for its table names, not run.
RUNNABLE = [q for q in [*BLOCKS, *INLINE] if "…" not in q]
TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)\s*(\()?", re.I)


def test_the_readme_has_sql_examples():
    assert len(BLOCKS) >= 3
    assert len(INLINE) >= 3


@pytest.mark.parametrize("sql", [*BLOCKS, *INLINE])
def test_every_table_is_qualified(sql):
    for name, call in TABLE.findall(sql):
        assert call or name.split(".")[0] in ("marts", "main"), f"{name} in: {sql}"


@pytest.mark.parametrize("sql", RUNNABLE, ids=[f"query{i}" for i in range(len(RUNNABLE))])
def test_a_readme_query_runs_on_the_published_copy(published, sql):
    with duckdb.connect(str(published.published), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    # The examples (the sql blocks) answer with rows: the fixture holds 2024-2026, so every
    # example year must be one of them. An inline check (e.g. "are there partners of kind
    # 'other'?") may rightly find none.
    assert rows or sql not in BLOCKS, sql
