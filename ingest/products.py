"""Product detail (the `hs` dataset): one (flow, year) partition is the year's ATP codes, asked
in batches that the live API answers.

No single all-countries x all-HS10 call is known to succeed (reference §16), so only the codes
on the year's ATP list are asked, as repeated `I_COMMODITY=`/`E_COMMODITY=` predicates (which
the API ORs), as many per request as fit in a URL of MAX_URL_CHARS. A request that times out or
gets 502/504 is split, never sent again as it was: its codes in halves, then (one code left)
its months in halves. At most ATP_MAX_CONCURRENT_REQUESTS requests are in flight (the run's
RetryBudget holds the cap); the plan that worked is returned with the answer.

Each answer is written to a file as it comes, as the API sent it, and never held as Python
rows: DuckDB checks the year's answers together (ingest.answer_files; each holds only the codes
and months it asked for, so no row comes twice) and the loader reads the same files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

from ingest.answer_files import AnswerFile, check_answer_files
from ingest.client import CensusClient, Fetch
from ingest.datasets import HS
from ingest.errors import AnswerTooLarge
from ingest.files import write_atomic
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
    """One request of the plan as it was answered: its file (None: HTTP 204, no trade)."""

    part: Part
    answer: AnswerFile | None
    attempts: int
    request_url: str  # without the key
    bytes: int = 0
    sha256: str = ""  # of the answer's bytes, as written

    def manifest_entry(self) -> dict:
        """What the landing manifest says of this answer (see ingest.landing)."""
        assert self.answer is not None, "an HTTP 204 has no file"
        return {
            "file": self.answer.path.name,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "request": self.request_url,
            "asked": self.part.describe(),
            "codes": list(self.part.codes),
            "first_month": self.part.first_month,
            "last_month": self.part.last_month,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class ProductAnswers:
    """A flow-year's answers, each in its own file, and the plan that got them."""

    asked: list[Asked]  # in the order of their codes and months
    planned: int  # requests in the plan before any split

    @property
    def files(self) -> list[AnswerFile]:
        return [asked.answer for asked in self.asked if asked.answer is not None]

    @property
    def attempts(self) -> int:
        return sum(asked.attempts for asked in self.asked)

    @property
    def bytes(self) -> int:
        return sum(asked.bytes for asked in self.asked)

    def manifest_parts(self) -> list[dict]:
        return [asked.manifest_entry() for asked in self.asked if asked.answer is not None]

    def note(self) -> str:
        """The plan as it worked, for the partition's metadata."""
        splits = len(self.asked) - self.planned
        return f"{len(self.asked)} request(s)" + (
            f", {splits} more after splits" if splits > 0 else ""
        )


def fetch_products(
    client: CensusClient,
    flow: str,
    year: int,
    codes: Sequence[str],
    folder: Path,
    *,
    max_url: int = MAX_URL_CHARS,
    before_write: Callable[[int], None] = lambda size: None,
) -> ProductAnswers:
    """Every answer of the year for `codes`, through the plan (split as the API needs), each
    written to `folder` as it comes, as the API sent it (`before_write` gets its size first).
    No more than the requests in flight are held in memory."""
    where = f"{flow} {year} products"
    pending = plan(client, flow, year, codes, max_url)
    planned = len(pending)
    done: list[Asked] = []
    folder.mkdir(parents=True, exist_ok=True)
    ask = partial(_ask, client, flow, year, where, folder, before_write)
    # The budget's semaphore caps the requests in flight; the pool only needs as many threads.
    # Daemon threads: a run that stops (Ctrl-C, a failed request) never waits for the others.
    pool = DaemonPool(client.budget.max_in_flight, f"products-{flow}")
    running: dict[Future, Part] = {}
    try:
        while pending or running:
            while pending:
                part = pending.pop(0)
                running[pool.submit(ask, part)] = part
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                part = running.pop(future)
                try:
                    done.append(future.result())
                except AnswerTooLarge:
                    halves = part.halves()
                    if halves is None:  # one code, one month: asked with the usual retries
                        done.append(ask(part, splittable=False))
                    else:
                        pending.extend(halves)
    finally:
        pool.shutdown(wait=False)
    done.sort(key=lambda asked: (asked.part.codes[0], asked.part.first_month))
    return ProductAnswers(done, planned)


def _ask(
    client: CensusClient,
    flow: str,
    year: int,
    where: str,
    folder: Path,
    before_write: Callable[[int], None],
    part: Part,
    splittable: bool = True,
) -> Asked:
    answer = client.fetch_part(HS, flow, part.params(flow, year), where, splittable=splittable)
    if answer.body is None:
        return Asked(part, None, answer.attempts, answer.request_url)
    before_write(len(answer.body))
    # Named for what it asked: the plan's parts never overlap, so neither do the names.
    path = folder / f"{part.codes[0]}_{part.first_month:02d}-{part.last_month:02d}.json"
    write_atomic(path, answer.body, replace=False)
    checked = AnswerFile(path, part.codes, part.first_month, part.last_month, part.describe())
    sha256 = hashlib.sha256(answer.body).hexdigest()
    return Asked(part, checked, answer.attempts, answer.request_url, len(answer.body), sha256)


def product_fetch(
    client: CensusClient, flow: str, year: int, answers: ProductAnswers, fetched_at: datetime
) -> Fetch:
    """The flow-year's answers as one fetch, checked together (a year with no row at all is a
    204, as for hitech); its request is what every request of the plan shares."""
    params = dict(Part(()).params(flow, year))
    request = f"{client.base_url}/{HS.endpoint(flow)}?{urlencode(params)}"
    files = answers.files
    table = check_answer_files(HS, flow, year, files) if files else None
    return Fetch(
        HS,
        flow,
        year,
        HS.endpoint(flow),
        request,
        params,
        fetched_at,
        answers.attempts,
        None,
        table,
    )
