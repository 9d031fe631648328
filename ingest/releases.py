"""Which month Census should have published by now, and which month the warehouse holds.

Census releases a month about five weeks after it ends (later when a release slips). A month is
"due" once `ATP_RELEASE_LAG_DAYS` days have passed since its last day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from ingest.datasets import FLOWS
from ingest.warehouse import raw_table, table_exists


@dataclass(frozen=True)
class ReleaseStatus:
    newest_held: str | None  # 'YYYY-MM' present in every flow, or None when empty
    newest_due: str  # 'YYYY-MM'
    lag_days: int

    @property
    def behind(self) -> bool:
        return self.newest_held is None or self.newest_held < self.newest_due

    def describe(self) -> str:
        if not self.behind:
            return f"up to date: holds {self.newest_held}, the newest month due ({self.newest_due})"
        held = self.newest_held or "no month at all"
        return (
            f"behind: the warehouse holds {held}, but Census should have published "
            f"{self.newest_due} by now (month end + {self.lag_days} days). The release may have "
            "slipped, or the refresh is failing: check the last runs."
        )


def newest_month_due(today: date, lag_days: int) -> str:
    """The latest month whose last day is at least `lag_days` before `today`."""
    first = today.replace(day=1)
    while True:
        month_end = first - timedelta(days=1)  # last day of the month before `first`
        if month_end + timedelta(days=lag_days) <= today:
            return month_end.strftime("%Y-%m")
        first = month_end.replace(day=1)


def due_year(today: date, lag_days: int) -> int:
    """The year of the newest month due: the last year worth asking the API for."""
    return int(newest_month_due(today, lag_days)[:4])


def newest_month_held(con: duckdb.DuckDBPyConnection) -> str | None:
    """The newest month present in both raw tables."""
    newest = []
    for flow in FLOWS:
        if not table_exists(con, raw_table(flow)):
            return None
        newest.append(con.execute(f"SELECT max(time) FROM {raw_table(flow)}").fetchone()[0])
    return None if None in newest else min(newest)


def release_status(con: duckdb.DuckDBPyConnection, today: date, lag_days: int) -> ReleaseStatus:
    return ReleaseStatus(newest_month_held(con), newest_month_due(today, lag_days), lag_days)
