"""HTTP client for the Census International Trade API `hitech` endpoints.

One request per flow and calendar year. Transient failures are retried with exponential backoff
and jitter within a bounded number of attempts and total time; key and request errors are not.
The key is sent as `key=` (the API takes it nowhere else) and never appears in what we raise or log.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

import requests

from ingest.census_format import (
    CensusTable,
    MalformedJson,
    check_flow,
    decode_json,
    requested_variables,
    table_from_json,
)
from ingest.errors import (
    CensusAuthError,
    CensusRequestError,
    CensusUnavailableError,
)
from ingest.redaction import redact, register_secret
from ingest.settings import KEY_HELP

log = logging.getLogger(__name__)

_KEY_PROBLEM = (
    "The Census API answered {what} instead of data: it does this when CENSUS_API_KEY is missing, "
    "invalid or not yet activated. Check CENSUS_API_KEY. " + KEY_HELP
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    max_total_seconds: float = 300.0
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0


@dataclass(frozen=True)
class Fetch:
    """The outcome of one (flow, year) request."""

    flow: str
    year: int
    endpoint: str  # e.g. "imports/hitech"
    request_url: str  # without the key
    params: dict[str, str]  # without the key
    fetched_at: datetime  # UTC
    attempts: int
    body: bytes | None = None  # None: 204, nothing released for this year yet
    table: CensusTable | None = None

    @property
    def released(self) -> bool:
        return self.table is not None


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class CensusClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        register_secret(api_key)

    def fetch_year(self, flow: str, year: int) -> Fetch:
        check_flow(flow)
        endpoint = f"{flow}/hitech"
        params = {
            "get": ",".join(requested_variables(flow)),
            "time": f"from {year}-01 to {year}-12",
        }
        url = f"{self.base_url}/{endpoint}"
        public_url = f"{url}?{urlencode(params)}"
        where = f"{flow} {year}"
        policy = self.policy
        started = self._clock()
        last_problem = "no attempt made"
        for attempt in range(1, policy.max_attempts + 1):
            try:
                body, table = self._attempt(url, params, flow, year)
            except _Retry as problem:
                last_problem = problem.reason
                delay = self._backoff(attempt, problem.retry_after)
                elapsed = self._clock() - started
                if attempt == policy.max_attempts or elapsed + delay > policy.max_total_seconds:
                    break
                log.warning(
                    "%s: %s; retrying in %.1f s (attempt %d of %d)",
                    where,
                    problem.reason,
                    delay,
                    attempt + 1,
                    policy.max_attempts,
                )
                self._sleep(delay)
                continue
            return Fetch(
                flow=flow,
                year=year,
                endpoint=endpoint,
                request_url=public_url,
                params=params,
                fetched_at=datetime.now(UTC),
                attempts=attempt,
                body=body,
                table=table,
            )
        elapsed = self._clock() - started
        raise CensusUnavailableError(
            f"{where}: the Census API did not answer usefully after {attempt} attempt(s) over "
            f"{elapsed:.0f} s; last problem: {last_problem}. Nothing was written; run again later "
            f"(request: {public_url})."
        )

    def _attempt(self, url: str, params: dict[str, str], flow: str, year: int):
        policy = self.policy
        problem: str | None = None
        try:
            # A fresh session per attempt: a stale keep-alive socket is one of the failures we retry.
            with requests.Session() as session:
                response = session.get(
                    url,
                    params={**params, "key": self._key},  # the key goes last
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    allow_redirects=False,
                )
        except requests.Timeout:
            problem = f"no answer within {policy.read_timeout:g} s (timeout)"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            problem = f"the connection failed or dropped mid-response ({exc.__class__.__name__})"
        if (
            problem
        ):  # raised outside the except block so no exception text (with the URL) is chained
            raise _Retry(problem)
        return self._interpret(response, flow, year)

    def _interpret(self, response: requests.Response, flow: str, year: int):
        where = f"{flow} {year}"
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        if 300 <= status < 400 or status in (401, 403):
            raise CensusAuthError(f"{where}: " + _KEY_PROBLEM.format(what=f"HTTP {status}"))
        if status == 204:
            return None, None
        if status == 429:
            raise _Retry("HTTP 429 (too many requests)", _retry_after(response))
        if status >= 500:
            raise _Retry(f"HTTP {status} ({_snippet(response)})")
        if status != 200:
            raise CensusRequestError(
                f"{where}: the Census API rejected the request with HTTP {status}: "
                f"{_snippet(response)}. This is not retried: the request itself needs fixing."
            )
        body = response.content
        if "html" in content_type.lower() or body.lstrip()[:1] == b"<":
            raise CensusAuthError(f"{where}: " + _KEY_PROBLEM.format(what="an HTML page"))
        try:
            data = decode_json(body)
        except MalformedJson as exc:
            raise _Retry(f"HTTP 200 with {exc}") from None
        return body, table_from_json(data, flow, year)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        policy = self.policy
        delay = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
        delay *= random.uniform(
            0.5, 1.0
        )  # jitter: clients that failed together do not retry together
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _snippet(response: requests.Response, limit: int = 300) -> str:
    text = " ".join(response.text.split())[:limit] or "(empty body)"
    return redact(text)
