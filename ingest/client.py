"""HTTP client for the Census International Trade API (the datasets of `ingest.datasets`).

A hitech partition is one request per flow and calendar year. Transient failures (connection errors, timeouts, 429, 5xx,
an HTML page that is not about the key) are retried by tenacity with jittered exponential backoff,
within a bounded number of attempts and total time per request; key and request errors are not.
A run shares one RetryBudget: once a request has used up its retries, or the API refused the key,
every later request of the run fails at once instead of waiting on an API that is down.
The key is sent as `key=` (the API takes it nowhere else) and never appears in what we raise or log.
"""

from __future__ import annotations

import email.utils
import html
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import requests
from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type

from ingest.answer_files import CheckedAnswers
from ingest.census_format import CensusTable, MalformedJson, decode_json, table_from_json
from ingest.datasets import HITECH, CensusDataset
from ingest.errors import (
    AnswerTooLarge,
    CensusAuthError,
    CensusError,
    CensusRequestError,
    CensusResponseError,
    CensusUnavailableError,
)
from ingest.redaction import redact, register_secret
from ingest.settings import KEY_HELP

log = logging.getLogger(__name__)

_KEY_PROBLEM = (
    "The Census API answered {what} instead of data: it does this when CENSUS_API_KEY is missing, "
    "invalid or not yet activated. Check CENSUS_API_KEY. " + KEY_HELP
)
# The header the Census API sets on its answers about a missing or invalid key.
KEY_ERROR_HEADER = "X-DataWebAPI-KeyError"
_KEY_WORD = re.compile(r"\bkeys?\b", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may be retried. Checked on creation: a policy that would never send
    a request, or never wait, is refused."""

    max_attempts: int = 5
    max_total_seconds: float = 300.0
    backoff_base: float = 2.0
    backoff_cap: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def __post_init__(self):
        attempts = self.max_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(
                f"RetryPolicy(max_attempts={attempts!r}): the number of attempts must be a whole "
                "number of at least 1 (1 means no retry)."
            )
        for name in (
            "max_total_seconds",
            "backoff_base",
            "backoff_cap",
            "connect_timeout",
            "read_timeout",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(
                    f"RetryPolicy({name}={value!r}): a time in seconds must be a positive number."
                )


class RetryBudget:
    """What one run may still ask of the Census API: shared by every request of a CensusClient,
    and by several clients when they are handed the same object (both flows of a run, say).

    Each request retries transient failures within its RetryPolicy. Once one request has used up
    its retries (the API is down or keeps failing), or the API refused the key, the run stops
    asking: every later request raises the same kind of error at once, without being sent.
    Thread-safe: the partitions loader fetches the next year on a worker thread, and product
    detail asks several batches at once; `max_in_flight` caps the requests in flight at a time
    across the run (ATP_MAX_CONCURRENT_REQUESTS), out of politeness to the API."""

    def __init__(self, max_in_flight: int = 4):
        self.max_in_flight = max_in_flight
        self.in_flight = threading.BoundedSemaphore(max_in_flight)
        self._lock = threading.Lock()
        self._stop: tuple[type[CensusError], str] | None = None
        self._requests = 0
        # Set on Ctrl-C: a fetch on a worker thread must not wait out a back-off of a minute.
        self._interrupted = threading.Event()

    @property
    def requests(self) -> int:
        """HTTP requests sent so far through this budget (every attempt counts)."""
        with self._lock:
            return self._requests

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stop is not None

    def check(self, where: str) -> None:
        """Raise, without a request, if the run has stopped asking."""
        with self._lock:
            stop = self._stop
        if stop is not None:
            error_class, reason = stop
            raise error_class(f"{where}: not requested: {reason}")

    def count_request(self) -> None:
        with self._lock:
            self._requests += 1

    def stop(self, error_class: type[CensusError], reason: str) -> None:
        """Stop the run's requests; the first reason is kept."""
        with self._lock:
            if self._stop is None:
                self._stop = (error_class, reason)

    def interrupt(self) -> None:
        """The run was interrupted (Ctrl-C): no further request, and a back-off sleep ends now."""
        self.stop(CensusError, "the run was interrupted")
        self._interrupted.set()

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    def sleep(self, seconds: float) -> None:
        """The back-off between attempts, cut short by `interrupt`."""
        self._interrupted.wait(seconds)


@dataclass(frozen=True)
class Fetch:
    """The outcome of one (flow, year) request."""

    dataset: CensusDataset
    flow: str
    year: int
    endpoint: str  # e.g. "imports/hitech"
    request_url: str  # without the key
    params: dict[str, str]  # without the key
    fetched_at: datetime  # UTC
    attempts: int
    body: bytes | None = None  # None: 204, nothing released for this year yet
    # Product detail's answers are checked in DuckDB (ingest.answer_files): CheckedAnswers.
    table: CensusTable | CheckedAnswers | None = None

    @property
    def released(self) -> bool:
        return self.table is not None


@dataclass(frozen=True)
class Answer:
    """A decoded 200 answer (or a 204) to any request, before any check of its content."""

    request_url: str  # without the key
    attempts: int
    body: bytes | None  # None: HTTP 204, no data
    data: object = None  # the decoded JSON; None for a 204


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        # What a large answer fails with (a timeout, a gateway's 502/504): a splittable
        # request is asked in parts instead.
        self.too_large = too_large


class _KeyRefused(Exception):
    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class CensusClient:
    """Requests to the Census API. A client carries its run's RetryBudget: use one client (or
    one budget) per run, since a stopped budget stays stopped."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        sleep: Callable[[float], None] | None = None,  # default: the budget's, interruptible
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.policy = policy or RetryPolicy()
        self.budget = budget if budget is not None else RetryBudget()
        self._sleep = sleep or self.budget.sleep
        self._clock = clock
        register_secret(api_key)

    def fetch_year(self, flow: str, year: int, dataset: CensusDataset = HITECH) -> Fetch:
        endpoint = dataset.endpoint(flow)
        params = {
            "get": ",".join(dataset.requested_variables(flow)),
            **dataset.pinned,
            "time": f"from {year}-01 to {year}-12",
        }
        answer = self._get(endpoint, params, f"{flow} {year}")
        table = None if answer.body is None else table_from_json(answer.data, flow, year, dataset)
        return Fetch(
            dataset=dataset,
            flow=flow,
            year=year,
            endpoint=endpoint,
            request_url=answer.request_url,
            params=params,
            fetched_at=datetime.now(UTC),
            attempts=answer.attempts,
            body=answer.body,
            table=table,
        )

    def fetch_month(self, flow: str, month: str, dataset: CensusDataset = HITECH) -> Answer:
        """The pipeline's request for one month ('YYYY-MM'), decoded but not checked: for
        `atp check-api`, which reports each check separately."""
        params = {"get": ",".join(dataset.requested_variables(flow)), **dataset.pinned}
        return self._get(dataset.endpoint(flow), {**params, "time": month}, f"{flow} {month}")

    def fetch_variables(self, flow: str, dataset: CensusDataset = HITECH) -> dict:
        """The endpoint's `variables.json` (metadata needs no key, so none is sent): the
        variables the endpoint lists, by name."""
        path = f"{dataset.endpoint(flow)}/variables.json"
        answer = self._get(path, {}, path, keyed=False)
        variables = answer.data.get("variables") if isinstance(answer.data, dict) else None
        if not isinstance(variables, dict):
            raise CensusResponseError(
                f'{path}: the answer is not a variables listing ({{"variables": {{...}}}}); '
                f"the Census API's metadata format changed (request: {answer.request_url})."
            )
        return variables

    def fetch_file(self, url: str, where: str) -> Answer:
        """A file outside the API (e.g. an ATP code list on www.census.gov), with this run's
        retries and budget. No key is sent, so redirects are followed. `body` is None for HTTP
        404/410 (no such file); any other body is returned unchecked, for its reader to check."""
        return self._request(
            url, {}, where, keyed=False, interpret=_interpret_file, follow_redirects=True
        )

    def fetch_part(
        self,
        dataset: CensusDataset,
        flow: str,
        params: list[tuple[str, str]],
        where: str,
        *,
        splittable: bool = True,
    ) -> Answer:
        """One request of a dataset's query plan (`params` may repeat a name, which the API
        ORs): its body, neither decoded nor checked (DuckDB reads it: ingest.answer_files). When
        `splittable`, a timeout or an HTTP 502/504 raises AnswerTooLarge at once, not retried:
        the caller splits the request (`ingest.products`); otherwise it is retried as any
        request is."""
        url = f"{self.base_url}/{dataset.endpoint(flow)}"
        return self._request(
            url, params, where, keyed=True, splittable=splittable, interpret=_interpret_undecoded
        )

    def _get(self, path: str, params: dict[str, str], where: str, *, keyed: bool = True) -> Answer:
        return self._request(f"{self.base_url}/{path}", params, where, keyed=keyed)

    def _request(
        self,
        url: str,
        params: dict[str, str] | list[tuple[str, str]],
        where: str,
        *,
        keyed: bool,
        interpret: Callable[[requests.Response, str], tuple[bytes | None, object]] | None = None,
        follow_redirects: bool = False,
        splittable: bool = False,
    ) -> Answer:
        interpret = interpret or _interpret
        public_url = f"{url}?{urlencode(params)}" if params else url
        policy = self.policy
        started = self._clock()
        attempts = 0

        def attempt():
            nonlocal attempts
            self.budget.check(where)  # also between retries: another fetch may have stopped it
            attempts += 1
            try:
                return self._attempt(url, params, where, keyed, interpret, follow_redirects)
            except _Retry as exc:
                if splittable and exc.too_large:
                    raise AnswerTooLarge(f"{where}: {exc.reason}") from None
                raise

        def out_of_budget(state: RetryCallState) -> bool:
            elapsed = self._clock() - started
            return (
                state.attempt_number >= policy.max_attempts
                or elapsed + state.upcoming_sleep > policy.max_total_seconds
                or self.budget.interrupted
            )

        def announce(state: RetryCallState) -> None:
            log.warning(
                "%s: %s; retrying in %.1f s (attempt %d of %d)",
                where,
                state.outcome.exception().reason,
                state.upcoming_sleep,
                state.attempt_number + 1,
                policy.max_attempts,
            )

        retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            wait=self._backoff,
            stop=out_of_budget,
            sleep=self._sleep,
            before_sleep=announce,
        )
        try:
            body, data = retrying(attempt)
        except RetryError as exc:
            problem = exc.last_attempt.exception().reason
            elapsed = self._clock() - started
            self.budget.stop(
                CensusUnavailableError,
                f"{where} already failed ({problem}; {attempts} attempt(s) over {elapsed:.0f} s; "
                f"request: {public_url}), and a run stops asking the Census API after the first "
                "partition that fails: it is down or failing. Nothing was written; run again later.",
            )
            raise CensusUnavailableError(
                f"{where}: the Census API did not answer usefully after {attempts} attempt(s) "
                f"over {elapsed:.0f} s; last problem: {problem}. Nothing was written; run again "
                f"later (request: {public_url})."
            ) from None
        except _KeyRefused as exc:
            if keyed:  # metadata is asked without a key: its answer says nothing of ours
                # What to do is said once, by the error of `where`, not by every year after it.
                self.budget.stop(
                    CensusAuthError,
                    f"the Census API refused the key for {where} ({exc.what}), so this run stopped "
                    f"asking (what to do: see the error of {where})",
                )
            raise CensusAuthError(f"{where}: " + _KEY_PROBLEM.format(what=exc.what)) from None
        if self.budget.interrupted:  # an answer that came after Ctrl-C is not stored
            raise CensusError(f"{where}: not stored: the run was interrupted")
        return Answer(request_url=public_url, attempts=attempts, body=body, data=data)

    def _attempt(
        self,
        url: str,
        params: dict[str, str] | list[tuple[str, str]],
        where: str,
        keyed: bool,
        interpret,
        follow_redirects: bool,
    ):
        policy = self.policy
        problem: str | None = None
        pairs = list(params.items()) if isinstance(params, dict) else list(params)
        try:
            # A fresh session per attempt: a stale keep-alive socket is one of the failures we retry.
            with self.budget.in_flight, requests.Session() as session:
                self.budget.count_request()
                response = session.get(
                    url,
                    params=[*pairs, ("key", self._key)] if keyed else pairs,  # the key goes last
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    # A keyed request never follows one: it would carry the key elsewhere.
                    allow_redirects=follow_redirects and not keyed,
                )
        except requests.Timeout:
            problem = f"no answer within {policy.read_timeout:g} s (timeout)"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            problem = f"the connection failed or dropped mid-response ({exc.__class__.__name__})"
        if (
            problem
        ):  # raised outside the except block so no exception text (with the URL) is chained
            raise _Retry(problem, too_large="timeout" in problem)
        return interpret(response, where)

    def _backoff(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter (clients that failed together do not retry together),
        at least as long as the API's Retry-After."""
        policy = self.policy
        delay = min(policy.backoff_cap, policy.backoff_base * 2 ** (state.attempt_number - 1))
        delay *= random.uniform(0.5, 1.0)
        retry_after = state.outcome.exception().retry_after
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


def _interpret(response: requests.Response, where: str) -> tuple[bytes | None, object]:
    """(body, decoded JSON) of a usable answer, (None, None) for a 204; otherwise raise _Retry
    (worth another attempt), _KeyRefused, or CensusRequestError (the request needs fixing)."""
    status = response.status_code
    key_error = response.headers.get(KEY_ERROR_HEADER)
    if key_error is not None:
        raise _KeyRefused(f"HTTP {status} with {KEY_ERROR_HEADER}: {redact(key_error) or '-'}")
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        target = redact(location) or "(no Location)"
        # The key pages (key_signup.html, invalid_key.html) name the key in their path; a
        # redirect's query may echo ours, key= included, so only the path counts.
        if "key" in urlsplit(location).path.lower():
            raise _KeyRefused(f"HTTP {status}, a redirect to the key page {target}")
        if status in (301, 308):
            raise CensusRequestError(
                f"{where}: the Census API answered HTTP {status}, a permanent redirect to {target}: "
                "the API has moved. Set CENSUS_API_BASE_URL to its new address."
            )
        raise _Retry(f"HTTP {status}, a redirect to {target} instead of data")
    if status in (401, 403):
        raise _KeyRefused(f"HTTP {status}")
    if status == 204:
        return None, None
    _retry_if_transient(response)
    if status != 200:
        raise CensusRequestError(
            f"{where}: the Census API rejected the request with HTTP {status}: "
            f"{_describe(response)}. This is not retried: the request itself needs fixing."
        )
    body = response.content
    if _is_html(response):
        page = response.text
        if _KEY_WORD.search(_TAG.sub(" ", page)):
            raise _KeyRefused(f"an HTML page about the key ({_describe(response)})")
        # A proxy's or a maintenance page: the API is not answering, as with a 503.
        raise _Retry(f"HTTP 200 with an HTML page ({_describe(response)}) instead of data")
    try:
        data = decode_json(body)
    except MalformedJson as exc:
        raise _Retry(f"HTTP 200 with {exc}") from None
    return body, data


def _interpret_undecoded(response: requests.Response, where: str) -> tuple[bytes | None, object]:
    """_interpret's (body, None), the body not decoded: only a body that cannot be whole JSON
    (a transfer cut short) is retried here; its reader checks the rest."""
    if response.status_code != 200 or _is_html(response):
        return _interpret(response, where)
    body = response.content
    if not body.rstrip().endswith(b"]"):
        raise _Retry("HTTP 200 with a body that ends before its JSON does")
    return body, None


def _interpret_file(response: requests.Response, where: str) -> tuple[bytes | None, object]:
    """(body, None) of a 200, (None, None) of a 404/410; _Retry for what may pass (429, 5xx),
    CensusRequestError for the rest. What the body holds is for its reader to check."""
    status = response.status_code
    if status in (404, 410):
        return None, None
    _retry_if_transient(response)
    if status != 200:
        raise CensusRequestError(
            f"{where}: {response.url} answered HTTP {status}: {_describe(response)}. "
            "This is not retried."
        )
    return response.content, None


def _retry_if_transient(response: requests.Response) -> None:
    status = response.status_code
    if status == 429:
        raise _Retry("HTTP 429 (too many requests)", _retry_after(response))
    if status >= 500:
        raise _Retry(f"HTTP {status} ({_describe(response)})", too_large=status in (502, 504))


def _is_html(response: requests.Response) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    return "html" in content_type or response.content.lstrip()[:1] == b"<"


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


def _describe(response: requests.Response, limit: int = 300) -> str:
    """A short, key-free account of a body: an HTML page by its title (else its text)."""
    text = response.text
    if _is_html(response):
        title = _TITLE.search(text)
        if title and title.group(1).strip():
            return "page titled " + repr(_squeeze(html.unescape(title.group(1)), limit))
        text = html.unescape(_TAG.sub(" ", text))
    return _squeeze(text, limit) or "(empty body)"


def _squeeze(text: str, limit: int) -> str:
    # Redact before cutting: a cut key would no longer be recognised.
    return redact(" ".join(text.split()))[:limit]
