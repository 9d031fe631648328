"""Product detail (the `hs` dataset): one (flow, year) partition is the year's ATP codes, asked
in batches that the live API answers.

No single all-countries x all-HS10 call is known to succeed (reference §16), so only the codes
on the year's ATP list are asked, as repeated `I_COMMODITY=`/`E_COMMODITY=` predicates (which
the API ORs), as many per request as fit in a URL of MAX_URL_CHARS. A request that times out or
gets 502/504 is split, never sent again as it was: its codes in halves, then (one code left)
its months in halves. At most ATP_MAX_CONCURRENT_REQUESTS requests are in flight (the run's
RetryBudget holds the cap); the plan that worked is returned with the answer.

The partition's answers are checked one by one (each holds only the codes and months it asked
for, so no row comes twice) and kept as one table, in the API's own format, for the landing
zone and the loader.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson

from ingest.census_format import CensusTable, table_from_json
from ingest.client import CensusClient, Fetch
from ingest.datasets import HS
from ingest.errors import AnswerTooLarge, CensusResponseError
from ingest.workers import DaemonPool

# The API answers HTTP 414 beyond its URL limit; the key (40 characters) comes on top.
MAX_URL_CHARS = 6000
_KEY_ALLOWANCE = len("&key=") + 64


@dataclass(frozen=True)
class Part:
    """One request of the plan: some codes, some months of the year."""

    codes: tuple[str, ...]
    first_month: int = 1
    last_month: int = 12

    def params(self, flow: str, year: int) -> list[tuple[str, str]]:
        period = f"from {year}-{self.first_month:02d} to {year}-{self.last_month:02d}"
        item = HS.item[flow]
        return [
            ("get", ",".join(HS.requested_variables(flow))),
            *HS.pinned.items(),
            *((item, code) for code in self.codes),
            ("time", period),
        ]

    def halves(self) -> tuple[Part, Part] | None:
        """The two requests that ask for what this one did: codes first, then months."""
        if len(self.codes) > 1:
            middle = len(self.codes) // 2
            return Part(self.codes[:middle], self.first_month, self.last_month), Part(
                self.codes[middle:], self.first_month, self.last_month
            )
        if self.last_month > self.first_month:
            middle = (self.first_month + self.last_month) // 2
            return Part(self.codes, self.first_month, middle), Part(
                self.codes, middle + 1, self.last_month
            )
        return None

    def describe(self) -> str:
        codes = (
            self.codes[0]
            if len(self.codes) == 1
            else f"{len(self.codes)} codes from {self.codes[0]}"
        )
        return f"{codes}, months {self.first_month:02d}..{self.last_month:02d}"


def plan(
    client: CensusClient, flow: str, year: int, codes: Sequence[str], max_url: int = MAX_URL_CHARS
) -> list[Part]:
    """The year's codes in as few requests as fit in `max_url` characters each."""
    codes = sorted(set(codes))
    base = len(f"{client.base_url}/{HS.endpoint(flow)}?{urlencode(Part(()).params(flow, year))}")
    room = max_url - _KEY_ALLOWANCE - base
    parts: list[Part] = []
    batch: list[str] = []
    used = 0
    for code in codes:
        length = len(urlencode([(HS.item[flow], code)])) + 1  # "&I_COMMODITY=<code>"
        if batch and used + length > room:
            parts.append(Part(tuple(batch)))
            batch, used = [], 0
        batch.append(code)
        used += length
    if batch:
        parts.append(Part(tuple(batch)))
    return parts


@dataclass(frozen=True)
class Asked:
    """What one part of the plan got: its table (None: HTTP 204, no trade) and its attempts."""

    part: Part
    table: CensusTable | None
    attempts: int
    request_url: str


def fetch_products(
    client: CensusClient,
    flow: str,
    year: int,
    codes: Sequence[str],
    *,
    max_url: int = MAX_URL_CHARS,
) -> tuple[Fetch, list[Asked]]:
    """Every row of the year for `codes`, through the plan (split as the API needs), as one
    Fetch whose body is the answers' rows in the API's format. A year with no row at all is a
    204, as for hitech."""
    where = f"{flow} {year} products"
    pending = plan(client, flow, year, codes, max_url)
    done: list[Asked] = []
    # The budget's semaphore caps the requests in flight; the pool only needs as many threads.
    # Daemon threads: a run that stops (Ctrl-C, a failed request) never waits for the others.
    pool = DaemonPool(client.budget.max_in_flight, f"products-{flow}")
    running: dict[Future, Part] = {}
    try:
        while pending or running:
            while pending:
                part = pending.pop(0)
                running[pool.submit(_ask, client, flow, year, part, where)] = part
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                part = running.pop(future)
                try:
                    done.append(future.result())
                except AnswerTooLarge:
                    halves = part.halves()
                    if halves is None:  # one code, one month: asked with the usual retries
                        done.append(_ask(client, flow, year, part, where, splittable=False))
                    else:
                        pending.extend(halves)
    finally:
        pool.shutdown(wait=False)
    done.sort(key=lambda asked: (asked.part.codes[0], asked.part.first_month))
    return _combined(client, flow, year, done), done


def _ask(
    client: CensusClient, flow: str, year: int, part: Part, where: str, splittable: bool = True
) -> Asked:
    answer = client.fetch_part(HS, flow, part.params(flow, year), where, splittable=splittable)
    if answer.body is None:
        return Asked(part, None, answer.attempts, answer.request_url)
    table = table_from_json(answer.data, flow, year, HS)
    _check_asked(table, part, where)
    return Asked(part, table, answer.attempts, answer.request_url)


def _check_asked(table: CensusTable, part: Part, where: str) -> None:
    """An answer holds only the codes and months it asked for: the parts never overlap."""
    codes = set(part.codes)
    months = {f"{table.year}-{m:02d}" for m in range(part.first_month, part.last_month + 1)}
    for row in table.rows:
        if row[2] not in codes or row[5] not in months:
            raise CensusResponseError(
                f"{where}: the answer for {part.describe()} holds {HS.item[table.flow]}="
                f"{row[2]!r}, time={row[5]}, which it did not ask for. Nothing was written."
            )


def _combined(client: CensusClient, flow: str, year: int, done: list[Asked]) -> Fetch:
    tables = [asked.table for asked in done if asked.table is not None]
    attempts = sum(asked.attempts for asked in done)
    base = Part(())
    params = dict(base.params(flow, year))  # the common part of every request
    request = f"{client.base_url}/{HS.endpoint(flow)}?{urlencode(params)}"
    fetched_at = datetime.now(UTC)
    if not tables:
        return Fetch(HS, flow, year, HS.endpoint(flow), request, params, fetched_at, attempts)
    columns = tables[0].columns
    rows = [row for table in tables for row in table.rows]
    table = CensusTable(
        dataset=HS,
        flow=flow,
        year=year,
        columns=columns,
        rows=rows,
        header_positions=tuple(range(len(columns))),
        months=sorted({month for t in tables for month in t.months}),
        missing_values=sum(t.missing_values for t in tables),
    )
    body = orjson.dumps([list(columns), *rows])
    return Fetch(
        HS, flow, year, HS.endpoint(flow), request, params, fetched_at, attempts, body, table
    )
