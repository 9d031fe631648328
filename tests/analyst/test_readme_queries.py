"""The README's SQL examples run against the published copy and return rows."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import ROOT

QUERIES = re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_sql_examples():
    assert len(QUERIES) >= 3


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query{i}" for i in range(len(QUERIES))])
def test_a_readme_query_runs_on_the_published_copy(published, sql):
    # The fixture holds 2024-2026: every example year must be one of them.
    with duckdb.connect(str(published.published), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert rows, sql
