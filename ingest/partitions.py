"""One (dataset, flow, year) partition end to end: fetch -> land -> load, or reload from the
landing zone.

Dagster assets and the command line both call these, so the behaviour lives in one place.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from duckdb import DuckDBPyConnection as Connection

from ingest.answer_files import CheckedAnswers
from ingest.atp_code_lists import (
    LANDING_FOLDER,
    AtpCode,
    AtpCodeListError,
    fetch_code_list,
    land_code_list,
    list_url,
    parse_code_list,
)
from ingest.census_format import CensusTable
from ingest.client import CensusClient, Fetch, RetryBudget
from ingest.datasets import HITECH, HS, CensusDataset
from ingest.diskspace import ensure_free_space
from ingest.errors import AtpError
from ingest.landing import (
    Incoming,
    LandedFile,
    incoming_dir,
    land,
    landed_files,
    newest_landed,
)
from ingest.products import fetch_products, product_fetch
from ingest.settings import Settings
from ingest.warehouse import (
    load_code_list,
    load_partition,
    stored_months,
    stored_row_count,
    stored_vintages,
    writer,
)
from ingest.workers import DaemonPool

# One INFO line per partition; `atp run` prints this logger's records as its progress.
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionResult:
    flow: str
    year: int
    status: str  # "loaded" | "not_released" | "not_landed" | "skipped" (no ATP code list)
    rows: int
    months: list[str]
    fetched_at: datetime | None = None
    landing_file: str | None = None
    sha256: str | None = None
    requests: int = 0
    # Not released: what the warehouse still holds for the partition (kept untouched).
    stored_rows: int = 0
    # Loaded: value cells the API left empty or null (stored as NULL, not 0).
    missing_values: int = 0
    content_sha256: str | None = None  # the vintage's content hash (CensusTable.content_hash)
    # Loaded: the warehouse holds other data for the partition than before (a new vintage).
    changed: bool = False
    # Months held that the answer lacked: the stored year was kept as it was.
    dropped_months: list[str] = field(default_factory=list)
    dataset: str = HITECH.name
    # Product detail: the requests the query plan made ("3 requests, 1 split"), or why the
    # flow-year was skipped (its ATP code list is missing or not a list).
    note: str = ""

    @property
    def label(self) -> str:
        """'imports 2024', or 'imports 2024 products' for product detail."""
        return f"{self.flow} {self.year}" + ("" if self.dataset == HITECH.name else " products")

    def dropped_warning(self) -> str:
        return (
            f"{self.label}: the API's answer lacks {_months(self.dropped_months)}, "
            f"which the warehouse holds: kept the stored year (through {self.months[-1]}). A "
            "release that slipped or a partial answer; `atp rebuild` or "
            "--accept-fewer-months takes the shorter year."
        )

    def describe(self) -> str:
        if self.status == "loaded":
            span = f"{self.months[0]}..{self.months[-1]}" if self.months else "-"
            same = "" if self.changed else "unchanged, "
            if self.dropped_months:
                same = "kept as stored, "
            text = f"{self.label}: {same}{self.rows:,} rows, {len(self.months)} month(s) {span}"
            if self.missing_values:
                plural = "" if self.missing_values == 1 else "s"
                text += f", {self.missing_values:,} missing value{plural}"
            return text
        if self.status == "not_released":
            return (
                f"{self.label}: not released yet (HTTP 204); kept {self.stored_rows:,} stored rows"
            )
        if self.status == "skipped":
            return f"{self.label}: skipped: {self.note}"
        return f"{self.label}: nothing landed for this partition; kept stored rows"


def load_years(
    settings: Settings,
    flow: str,
    years: Sequence[int],
    source: str = "api",
    client: CensusClient | None = None,
    budget: RetryBudget | None = None,
    accept_fewer_months: bool = False,
    dataset: CensusDataset = HITECH,
) -> Iterator[tuple[int, PartitionResult | AtpError]]:
    """Load partitions in order from `source` ("api" or "landing"); yield each year's result, or
    the error that stopped that year (the caller decides whether to go on), and log a summary.
    A warehouse that cannot be opened (busy, say) raises: no year could load.

    Every year's fetch goes through one client and so one RetryBudget: once a year has used up
    its retries (the API is down) or the key was refused, the later years fail at once without a
    request. Pass the same `budget` for both flows of a run to share it across them (a given
    `client` brings its own).

    All the years go through one warehouse connection. From the API, the next year is fetched,
    checked and landed (Python work) while this one loads (DuckDB work, which runs outside the
    GIL): still one request in flight at a time, and the two cores both busy.

    An answer without months the warehouse holds for its year (a slipped release, a partial
    answer) leaves the stored year as it is, with a warning naming the months, unless
    `accept_fewer_months`. A reload from the landing zone (`atp rebuild`) always accepts it.
    """
    if source not in ("api", "landing"):
        raise ValueError(f"source must be 'api' or 'landing', not {source!r}")
    if source == "api":
        client = client or CensusClient(
            settings.base_url, settings.require_api_key(), budget=budget
        )
    with writer(settings.warehouse) as con:
        if source == "landing":
            for year in years:
                yield year, _logged(lambda year=year: _reload(settings, con, flow, year, dataset))
            return
        worker = DaemonPool(1, f"fetch-{flow}")  # one fetch at a time, the next year ahead

        def fetch_and_land(year: int) -> Future[_Fetched]:
            return worker.submit(_fetch_and_land, settings, client, flow, year, dataset)

        upcoming = fetch_and_land(years[0]) if years else None
        interrupted = False
        try:
            for i, year in enumerate(years):
                current = upcoming
                # Only the fetch in flight and the one being stored are held in memory.
                upcoming = fetch_and_land(years[i + 1]) if i + 1 < len(years) else None
                stored = _logged(
                    lambda fetched=current: _store(
                        settings, con, fetched.result(), accept_fewer_months=accept_fewer_months
                    )
                )
                yield year, stored
        except BaseException as exc:
            # Ctrl-C (KeyboardInterrupt, Dagster's interrupt): neither an error nor the caller
            # closing this generator early.
            interrupted = not isinstance(exc, Exception | GeneratorExit)
            raise
        finally:
            if interrupted:  # the worker's fetch stops at its next back-off or attempt
                client.budget.interrupt()
            if upcoming is not None:
                upcoming.cancel()
            # Never wait for a request in flight after Ctrl-C: its read timeout is 2 minutes.
            worker.shutdown(wait=not interrupted)


def _logged(load: Callable[[], PartitionResult]) -> PartitionResult | AtpError:
    try:
        result = load()
    except AtpError as exc:
        return exc
    (log.warning if result.status == "skipped" else log.info)(result.describe())
    return result


def fetch_and_load(
    settings: Settings,
    flow: str,
    year: int,
    client: CensusClient | None = None,
    dataset: CensusDataset = HITECH,
) -> PartitionResult:
    """Fetch a partition from the API, land the response, then replace the raw partition."""
    client = client or CensusClient(settings.base_url, settings.require_api_key())
    fetched = _fetch_and_land(settings, client, flow, year, dataset)
    with writer(settings.warehouse) as con:
        return _store(settings, con, fetched)


def reload_from_landing(
    settings: Settings, flow: str, year: int, dataset: CensusDataset = HITECH
) -> PartitionResult:
    """Reload a partition from its newest landed file, without the network; older landed
    vintages missing from the history table are added to it."""
    with writer(settings.warehouse) as con:
        return _reload(settings, con, flow, year, dataset)


@dataclass(frozen=True)
class _Fetched:
    """A partition fetched (parsed and validated on arrival) and, when released, landed."""

    fetch: Fetch | None
    landed: LandedFile | None = None
    # Product detail: the year's ATP code list (landed) and the plan's requests, or why the
    # flow-year has none.
    code_list: ProductCodes | None = None
    skipped: PartitionResult | None = None


def _fetch_and_land(
    settings: Settings, client: CensusClient, flow: str, year: int, dataset: CensusDataset
) -> _Fetched:
    if dataset is HS:
        return _fetch_and_land_products(settings, client, flow, year)
    return _land_released(settings, client.fetch_year(flow, year, dataset))


def _land_released(settings: Settings, fetch: Fetch, **more) -> _Fetched:
    if not fetch.released:
        return _Fetched(fetch, None, **more)
    what = f"store {fetch.flow} {fetch.year}"
    # The body lands once; DuckDB writes it to its WAL, then to the history table at a checkpoint.
    ensure_free_space(settings.landing_dir, len(fetch.body), settings.min_free_mb, what)
    ensure_free_space(settings.warehouse, 3 * len(fetch.body), settings.min_free_mb, what)
    return _Fetched(fetch, land(settings.landing_dir, fetch), **more)


def _fetch_and_land_products(
    settings: Settings, client: CensusClient, flow: str, year: int
) -> _Fetched:
    """The year's ATP code list, then its codes through the query plan. A list that is missing
    or is not a list skips the flow-year's product detail (a warning), never the run."""
    try:
        code_list = fetch_code_list(settings.atp_codes_base_url, flow, year, client)
    except AtpCodeListError as exc:
        return _Fetched(None, skipped=_skipped(flow, year, str(exc)))
    if code_list is None:
        url = list_url(settings.atp_codes_base_url, flow, year)
        return _Fetched(None, skipped=_skipped(flow, year, f"no ATP code list at {url} (HTTP 404)"))
    landed_list = land_code_list(settings.landing_dir, code_list)
    fetched_at = datetime.now(UTC)
    incoming = incoming_dir(settings.landing_dir, HS, flow, year, fetched_at)
    what = f"store {flow} {year} products"
    try:
        answers = fetch_products(
            client,
            flow,
            year,
            [code.code for code in code_list.codes],
            incoming,
            before_write=lambda size: ensure_free_space(
                settings.landing_dir, size, settings.min_free_mb, what
            ),
        )
        fetch = product_fetch(client, flow, year, answers, fetched_at)
        codes = ProductCodes(landed_list, code_list.codes, answers.note())
        if not fetch.released:
            return _Fetched(fetch, None, code_list=codes)
        ensure_free_space(settings.warehouse, 3 * answers.bytes, settings.min_free_mb, what)
        landed = land(settings.landing_dir, fetch, Incoming(incoming, answers.manifest_parts()))
        return _Fetched(fetch, landed, code_list=codes)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)  # (landed: renamed away already)


def _skipped(flow: str, year: int, reason: str) -> PartitionResult:
    return PartitionResult(flow, year, "skipped", 0, [], dataset=HS.name, note=reason)


@dataclass(frozen=True)
class ProductCodes:
    """A flow-year's ATP code list as landed, and the query plan's account of its requests."""

    landed: LandedFile
    codes: tuple[AtpCode, ...]
    plan: str


def _store(
    settings: Settings,
    con: Connection,
    fetched: _Fetched,
    *,
    accept_fewer_months: bool = False,
) -> PartitionResult:
    if fetched.skipped is not None:
        return fetched.skipped
    fetch, codes = fetched.fetch, fetched.code_list
    result = _store_fetch(settings, con, fetch, fetched.landed, accept_fewer_months)
    if codes is None:
        return result
    listed = _load_code_list(settings, con, fetch.flow, fetch.year, codes.landed, codes.codes)
    return replace(result, note=codes.plan, changed=result.changed or listed)


def _load_code_list(
    settings: Settings, con: Connection, flow: str, year: int, landed: LandedFile, codes
) -> bool:
    rows = [(code.group, code.code, code.description) for code in codes]
    relative = _relative(settings, landed)
    return load_code_list(
        con, flow, year, rows, fetched_at=landed.fetched_at, landing_file=relative
    )


def _store_fetch(
    settings: Settings,
    con: Connection,
    fetch: Fetch,
    landed: LandedFile | None,
    accept_fewer_months: bool,
) -> PartitionResult:
    dataset = fetch.dataset
    if landed is None:
        # 204: the year is not published yet. What we already hold stays as it is.
        return PartitionResult(
            fetch.flow,
            fetch.year,
            "not_released",
            0,
            [],
            fetched_at=fetch.fetched_at,
            requests=fetch.attempts,
            stored_rows=stored_row_count(con, fetch.flow, fetch.year, dataset),
            dataset=dataset.name,
        )
    held = stored_months(con, fetch.flow, fetch.year, dataset)
    dropped = sorted(set(held) - set(fetch.table.months))
    if dropped and not accept_fewer_months:
        # Months already held are never dropped by a refresh: the answer stays landed (a
        # rebuild would accept it), the stored year stays as it is.
        result = PartitionResult(
            fetch.flow,
            fetch.year,
            "loaded",
            stored_row_count(con, fetch.flow, fetch.year, dataset),
            held,
            fetched_at=fetch.fetched_at,
            landing_file=_relative(settings, landed),
            requests=fetch.attempts,
            dropped_months=dropped,
            dataset=dataset.name,
        )
        log.warning(result.dropped_warning())
        return result
    # The response was checked on arrival: do not check it again.
    return _load(settings, con, landed, requests=fetch.attempts, table=fetch.table)


def _reload(
    settings: Settings, con: Connection, flow: str, year: int, dataset: CensusDataset
) -> PartitionResult:
    # Strict: a manifest whose file is gone fails the partition (LandingError naming both)
    # rather than rebuilding the year from an older vintage, or from none.
    files = landed_files(dataset.landing_root(settings.landing_dir), flow, year, strict=True)
    landed = files[-1] if files else None
    known = stored_vintages(con, flow, year, dataset)
    # A re-fetch identical to an earlier one reuses its file under a newer manifest: a vintage
    # enters the history with the time of its first manifest, as when it was fetched.
    listed = False
    if dataset is HS:  # the year's list as landed with the answers
        found = newest_landed(settings.landing_dir / LANDING_FOLDER, flow, year)
        if found is not None:
            codes = parse_code_list(found.read_checked(), str(found.path))
            listed = _load_code_list(settings, con, flow, year, found, codes)
    first_seen: dict[Path, LandedFile] = {}
    for file in files:
        first_seen.setdefault(file.path, file)
    for file in first_seen.values():
        relative = _relative(settings, file)
        if file is not landed and relative not in known:  # the newest file is loaded below
            load_partition(
                con,
                file.read_table(),
                file.data_files,
                fetched_at=file.fetched_at,
                landing_file=relative,
                current=False,
            )
    if landed is None:
        stored = stored_row_count(con, flow, year, dataset)
        return PartitionResult(
            flow, year, "not_landed", 0, [], stored_rows=stored, dataset=dataset.name
        )
    result = _load(settings, con, landed, requests=0)
    return replace(result, changed=result.changed or listed)


def _load(
    settings: Settings,
    con: Connection,
    landed: LandedFile,
    *,
    requests: int,
    table: CensusTable | CheckedAnswers | None = None,
) -> PartitionResult:
    table = table or landed.read_table()
    relative = _relative(settings, landed)
    changed = load_partition(
        con, table, landed.data_files, fetched_at=landed.fetched_at, landing_file=relative
    )
    return PartitionResult(
        table.flow,
        table.year,
        "loaded",
        table.row_count,
        table.months,
        fetched_at=landed.fetched_at,
        landing_file=relative,
        sha256=landed.manifest["sha256"],
        requests=requests,
        missing_values=table.missing_values,
        content_sha256=table.content_hash,
        changed=changed,
        dataset=table.dataset.name,
    )


def _relative(settings: Settings, landed: LandedFile) -> str:
    return landed.path.relative_to(settings.landing_dir).as_posix()


def _months(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{len(months)} months, {months[0]}..{months[-1]}"
