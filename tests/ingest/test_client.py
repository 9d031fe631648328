"""The Census client against the fake API over real HTTP: requests, retries and fatal errors."""

from __future__ import annotations

import logging
import re
import signal
import socket
import threading
import time
from dataclasses import replace

import duckdb
import pytest

from fake_census import ERROR_500_TEXT, FakeCensusApi, fixture_dataset
from ingest.client import CensusClient, RetryBudget, RetryPolicy
from ingest.errors import (
    CensusAuthError,
    CensusError,
    CensusRequestError,
    CensusResponseError,
    CensusUnavailableError,
    ConfigError,
)
from ingest.partitions import fetch_and_load, load_years
from ingest.settings import KEY_HELP, Settings
from tests.conftest import FAST_POLICY, SENTINEL_KEY, at_api


def stored_rows(settings) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            "SELECT * FROM raw.census_hitech_imports UNION ALL BY NAME "
            "SELECT * FROM raw.census_hitech_imports_history ORDER BY ALL"
        ).fetchall()


# 6 countries (Vietnam only from 2025) + 2 groupings + the total row, x 12 HITECH rows.
ROWS_2024 = (5 + 2 + 1) * 12 * 12
ROWS_2026 = (6 + 2 + 1) * 12 * 9


def test_requests_one_year_of_confirmed_variables_with_key_last(client, fake_api):
    census, _ = client
    fetch = census.fetch_year("imports", 2024)
    (request,) = fake_api.data_requests
    assert request.path == "/data/timeseries/intltrade/imports/hitech"
    assert [name for name, _ in request.query] == ["get", "time", "key"]
    assert request.param("get") == "CTY_CODE,CTY_NAME,HITECH,HITECH_DESC,GEN_VAL_MO"
    assert request.param("time") == "from 2024-01 to 2024-12"
    assert request.param("key") == SENTINEL_KEY
    assert fetch.attempts == 1
    assert fetch.table.columns == (
        "CTY_CODE",
        "CTY_NAME",
        "HITECH",
        "HITECH_DESC",
        "GEN_VAL_MO",
        "time",
    )
    assert len(fetch.table.rows) == ROWS_2024
    assert fetch.table.months == [f"2024-{m:02d}" for m in range(1, 13)]
    assert "key=" not in fetch.request_url and SENTINEL_KEY not in fetch.request_url


def test_exports_ask_for_total_exports_and_keep_groupings_and_total(client, fake_api):
    census, _ = client
    fetch = census.fetch_year("exports", 2026)
    assert fake_api.data_requests[0].param("get").endswith(",ALL_VAL_MO")
    assert len(fetch.table.rows) == ROWS_2026
    codes = {row[0] for row in fetch.table.rows}
    assert {"2010", "5700", "5520", "0003", "5XXX", "-"} <= codes
    mexico_jan = {r[2]: r[4] for r in fetch.table.rows if r[0] == "2010" and r[5] == "2026-01"}
    # 4.4 bn ATP: 50% information & communications; the total row adds 22 bn of other goods.
    assert mexico_jan["04"] == "2200000000"
    assert mexico_jan["-"] == str(22_000_000_000 + 4_400_000_000)


def test_204_means_not_released_yet(client):
    census, _ = client
    fetch = census.fetch_year("imports", 2031)
    assert not fetch.released and fetch.body is None and fetch.table is None


def test_missing_key_fails_before_any_request(fake_api):
    settings = Settings.from_env({"CENSUS_API_BASE_URL": fake_api.base_url})
    with pytest.raises(ConfigError, match="CENSUS_API_KEY is not set.*key_signup"):
        settings.require_api_key()
    assert fake_api.request_count == 0


@pytest.mark.parametrize("fault", ["redirect", "html"])
def test_key_redirect_or_html_page_is_fatal_at_once(client, fake_api, fault):
    census, sleeps = client
    fake_api.script(fault)
    with pytest.raises(CensusAuthError, match="CENSUS_API_KEY") as info:
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []
    assert SENTINEL_KEY not in str(info.value)


def test_invalid_key_redirect_is_not_followed():
    with FakeCensusApi(fixture_dataset(), valid_keys={"the-real-key"}) as api:
        census = CensusClient(api.base_url, SENTINEL_KEY, policy=FAST_POLICY)
        with pytest.raises(CensusAuthError, match="HTTP 302"):
            census.fetch_year("exports", 2024)
        assert api.request_count == 1  # the key page was not fetched


def test_429_waits_as_long_as_retry_after_says(client, fake_api):
    census, sleeps = client
    fake_api.retry_after = 7
    fake_api.script("429")
    fetch = census.fetch_year("imports", 2025)
    assert fetch.attempts == 2 and fetch.released
    assert sleeps == [7.0]


def test_429_retry_after_as_http_date(client, fake_api):
    census, sleeps = client
    fake_api.retry_after = 30
    fake_api.script("429-date")
    assert census.fetch_year("imports", 2025).attempts == 2
    assert 25 <= sleeps[0] <= 31


@pytest.mark.parametrize(
    "faults", [("500",), ("503",), ("500", "503"), ("timeout",), ("drop",), ("malformed_json",)]
)
def test_transient_failures_are_retried_with_backoff(client, fake_api, faults):
    census, sleeps = client
    fake_api.script(*faults)
    fetch = census.fetch_year("exports", 2024)
    assert fetch.attempts == len(faults) + 1
    assert len(fake_api.data_requests) == len(faults) + 1
    assert len(fetch.table.rows) == ROWS_2024
    # Exponential backoff with jitter: attempt n waits base * 2**(n-1) * [0.5, 1].
    for n, delay in enumerate(sleeps, start=1):
        assert 0.5 * 0.01 * 2 ** (n - 1) <= delay <= min(0.05, 0.01 * 2 ** (n - 1))


def test_retries_are_bounded_in_attempts(client, fake_api):
    census, sleeps = client
    fake_api.script(*["503"] * 10)
    with pytest.raises(CensusUnavailableError, match=r"after 4 attempt\(s\).*HTTP 503") as info:
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 4 and len(sleeps) == 3
    assert "Nothing was written" in str(info.value)
    assert SENTINEL_KEY not in str(info.value)


def test_retries_are_bounded_in_total_time(fake_api):
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=10, max_total_seconds=5, backoff_base=0.01)
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=policy, sleep=sleeps.append)
    fake_api.retry_after = 60  # longer than the whole budget: give up instead of waiting
    fake_api.script("429", "429")
    with pytest.raises(CensusUnavailableError, match="HTTP 429"):
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []


def test_400_is_not_retried_and_shows_the_api_text(client, fake_api):
    census, sleeps = client
    fake_api.script("400")
    with pytest.raises(CensusRequestError, match="HTTP 400: error: unknown variable"):
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("header_only", "only a header row"),
        ("missing_column", "lacks the column"),
        ("bad_value", "not a non-negative whole number"),
        ("duplicate_row", "duplicate row"),
    ],
)
def test_a_200_that_is_not_the_expected_table_is_a_clear_error(client, fake_api, fault, message):
    census, sleeps = client
    fake_api.script(fault)
    with pytest.raises(CensusResponseError, match=message):
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []


def test_a_landing_dir_with_pattern_characters_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"ATP_LANDING_DIR=.*must not contain \*, \? or \["):
        Settings.from_env({"ATP_LANDING_DIR": str(tmp_path / "land?ng")})


# ----------------------------------------------------------------------------------------------
# The retry policy


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", -1),
        ("max_attempts", 2.5),
        ("max_attempts", True),
        ("max_total_seconds", 0),
        ("max_total_seconds", -5),
        ("max_total_seconds", float("nan")),
        ("max_total_seconds", float("inf")),
        ("backoff_base", 0),
        ("backoff_cap", -1.0),
        ("connect_timeout", 0),
        ("read_timeout", "60"),
    ],
)
def test_a_retry_policy_that_could_never_send_or_wait_is_refused(field, value):
    with pytest.raises(
        ValueError, match=rf"^RetryPolicy\({field}={re.escape(repr(value))}\): "
    ) as info:
        RetryPolicy(**{field: value})
    assert "\n" not in str(info.value)


def test_one_attempt_means_no_retry(fake_api):
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=1, backoff_base=0.01)
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=policy, sleep=sleeps.append)
    fake_api.script("503")
    with pytest.raises(CensusUnavailableError, match=r"after 1 attempt\(s\).*HTTP 503"):
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []


def test_each_retry_is_logged_with_its_reason_wait_and_attempt(client, fake_api, caplog):
    census, sleeps = client
    fake_api.script("500", "timeout")
    with caplog.at_level(logging.WARNING, logger="ingest.client"):
        assert census.fetch_year("exports", 2025).attempts == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "ingest.client"]
    assert messages == [
        f"exports 2025: HTTP 500 ({' '.join(ERROR_500_TEXT.split())}); retrying in {sleeps[0]:.1f} s "
        "(attempt 2 of 4)",
        f"exports 2025: no answer within 0.5 s (timeout); retrying in {sleeps[1]:.1f} s "
        "(attempt 3 of 4)",
    ]


# ----------------------------------------------------------------------------------------------
# One budget per run: a down API stops the run after one partition's retries


def seconds_as_n(text: str) -> str:
    """Error text with its elapsed time (which depends on the machine) as N."""
    return re.sub(r"over \d+ s", "over N s", text)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/data/timeseries/intltrade"


def test_a_down_api_costs_one_partitions_retries_not_every_partitions(env, client):
    census, _ = client
    fetch_and_load(env, "imports", 2024, census)  # something stored, which must stay as it is
    landed_before = sorted(p.name for p in env.landing_dir.rglob("*"))
    stored_before = stored_rows(env)
    down = replace(env, base_url=closed_port_url())
    budget, sleeps = RetryBudget(), []
    years = list(range(2013, 2027))
    started = time.monotonic()
    outcomes = []
    for flow in ("imports", "exports"):  # one client per flow, one budget for the run
        census = CensusClient(
            down.base_url, SENTINEL_KEY, policy=FAST_POLICY, budget=budget, sleep=sleeps.append
        )
        outcomes += [outcome for _, outcome in load_years(down, flow, years, client=census)]
    elapsed = time.monotonic() - started
    assert len(outcomes) == 28 and all(isinstance(o, CensusUnavailableError) for o in outcomes)
    # One partition's worth of attempts (FAST_POLICY: 4), then no request at all.
    assert budget.requests == FAST_POLICY.max_attempts and len(sleeps) == 3
    assert elapsed < 10
    first, later = str(outcomes[0]), [str(o) for o in outcomes[1:]]
    assert first.startswith("imports 2013: the Census API did not answer usefully after 4 ")
    assert "connection failed" in first
    url = f"{down.base_url}/imports/hitech?get=CTY_CODE%2CCTY_NAME%2CHITECH%2CHITECH_DESC%2CGEN_VAL_MO&time=from+2013-01+to+2013-12"
    assert seconds_as_n(later[0]) == (
        "imports 2014: not requested: imports 2013 already failed (the connection failed or "
        f"dropped mid-response (ConnectionError); 4 attempt(s) over N s; request: {url}), and a "
        "run stops asking the Census API after the first partition that fails: it is down or "
        "failing. Nothing was written; run again later."
    )
    assert later[-1].startswith("exports 2026: not requested: imports 2013 already failed")
    assert all(SENTINEL_KEY not in text and "key=" not in text for text in [first, *later])
    assert stored_rows(env) == stored_before
    assert sorted(p.name for p in env.landing_dir.rglob("*")) == landed_before


def test_the_next_run_asks_again(env, fake_api):
    sleeps: list[float] = []
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=sleeps.append)
    fake_api.script(*["503"] * FAST_POLICY.max_attempts)
    outcomes = dict(load_years(env, "exports", [2024, 2025], client=census))
    assert isinstance(outcomes[2024], CensusUnavailableError)
    assert isinstance(outcomes[2025], CensusUnavailableError)
    assert "not requested" in str(outcomes[2025])
    assert len(fake_api.data_requests) == FAST_POLICY.max_attempts
    # A new run (a new client, so a new budget) asks again; the API is back.
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=sleeps.append)
    outcomes = dict(load_years(env, "exports", [2024, 2025], client=census))
    assert [outcomes[y].status for y in (2024, 2025)] == ["loaded", "loaded"]


def test_a_request_error_or_a_bad_table_does_not_stop_the_run(client, fake_api):
    census, _ = client
    fake_api.script("400", "bad_value")
    with pytest.raises(CensusRequestError):
        census.fetch_year("imports", 2024)
    with pytest.raises(CensusResponseError):
        census.fetch_year("imports", 2025)
    assert census.fetch_year("imports", 2026).released
    assert not census.budget.stopped and census.budget.requests == 3


# ----------------------------------------------------------------------------------------------
# A refused key stops every later request


def test_a_refused_key_is_asked_once_per_run(env):
    with FakeCensusApi(fixture_dataset(), valid_keys={"the-real-key"}) as api:
        census = CensusClient(api.base_url, SENTINEL_KEY, policy=FAST_POLICY)
        errors = []
        for flow, year in [
            ("imports", 2024),
            ("imports", 2025),
            ("exports", 2024),
            ("exports", 2025),
        ]:
            with pytest.raises(CensusAuthError) as info:
                census.fetch_year(flow, year)
            errors.append(str(info.value))
        assert api.request_count == 1
    assert errors[0].startswith(
        "imports 2024: The Census API answered HTTP 302 with X-DataWebAPI-KeyError: invalid key"
    )
    assert errors[0].endswith(f"Check CENSUS_API_KEY. {KEY_HELP}")
    # The later errors point at the first one rather than repeat its advice.
    assert errors[3] == (
        "exports 2025: not requested: the Census API refused the key for imports 2024 (HTTP 302 "
        "with X-DataWebAPI-KeyError: invalid key), so this run stopped asking (what to do: see "
        "the error of imports 2024)"
    )
    assert all(SENTINEL_KEY not in text for text in errors)


def test_a_shared_budget_stops_the_other_flows_client_too(fake_api):
    budget = RetryBudget()
    imports, exports = (
        CensusClient(fake_api.base_url, SENTINEL_KEY, policy=FAST_POLICY, budget=budget)
        for _ in range(2)
    )
    fake_api.script("redirect")
    with pytest.raises(CensusAuthError):
        imports.fetch_year("imports", 2024)
    with pytest.raises(
        CensusAuthError, match="^exports 2024: not requested: the Census API refused"
    ):
        exports.fetch_year("exports", 2024)
    assert fake_api.request_count == 1 and budget.requests == 1


# ----------------------------------------------------------------------------------------------
# Which answers are about the key


@pytest.mark.parametrize(
    ("fault", "what"),
    [
        ("html_key_error", "HTTP 200 with X-DataWebAPI-KeyError: invalid key"),
        ("html", "an HTML page about the key (page titled 'Invalid Key')"),
        ("redirect", "HTTP 302 with X-DataWebAPI-KeyError: missing key"),
    ],
)
def test_key_answers_are_told_by_header_page_or_redirect_and_are_fatal(
    client, fake_api, fault, what
):
    census, sleeps = client
    fake_api.script(fault)
    with pytest.raises(CensusAuthError) as info:
        census.fetch_year("imports", 2024)
    assert str(info.value).startswith(
        f"imports 2024: The Census API answered {what} instead of data"
    )
    assert fake_api.request_count == 1 and sleeps == []


def test_a_redirect_to_the_key_page_without_the_header_is_a_key_problem():
    with FakeCensusApi(fixture_dataset(), valid_keys={"good"}, key_error_header=False) as api:
        census = CensusClient(api.base_url, SENTINEL_KEY, policy=FAST_POLICY)
        with pytest.raises(
            CensusAuthError,
            match=r"HTTP 302, a redirect to the key page http://127\.0\.0\.1:\d+/data/invalid_key\.html instead of data",
        ):
            census.fetch_year("exports", 2024)
        assert api.request_count == 1


def test_a_maintenance_page_is_retried_like_a_503(client, fake_api):
    census, sleeps = client
    fake_api.script("html_maintenance", "redirect_maintenance")
    fetch = census.fetch_year("imports", 2024)
    assert fetch.attempts == 3 and len(sleeps) == 2 and len(fetch.table.rows) == ROWS_2024
    assert not census.budget.stopped


def test_a_lasting_maintenance_page_fails_naming_its_title(client, fake_api):
    census, _ = client
    fake_api.script(*["html_maintenance"] * 4)
    with pytest.raises(CensusUnavailableError) as info:
        census.fetch_year("imports", 2024)
    assert (
        "after 4 attempt(s) over N s; last problem: HTTP 200 with an HTML page (page titled "
        "'Service Unavailable - Maintenance') instead of data. Nothing was written"
    ) in seconds_as_n(str(info.value))
    assert fake_api.request_count == 4


def test_a_lasting_redirect_elsewhere_fails_naming_where_without_the_key(client, fake_api):
    census, _ = client
    fake_api.script(*["redirect_maintenance"] * 4)
    with pytest.raises(CensusUnavailableError) as info:
        census.fetch_year("imports", 2024)
    text = str(info.value)
    assert "last problem: HTTP 302, a redirect to http://127.0.0.1:" in text
    assert "/data/maintenance.html?from=" in text
    assert SENTINEL_KEY not in text
    assert "%26key%3D***" in text  # the request the proxy echoed, its key masked


def test_a_permanent_redirect_asks_for_the_new_base_url(client, fake_api):
    census, sleeps = client
    fake_api.script("redirect_moved")
    with pytest.raises(
        CensusRequestError,
        match=r"HTTP 301, a permanent redirect to http://127\.0\.0\.1:\d+/data/v2/data/timeseries/intltrade/imports/hitech.*Set CENSUS_API_BASE_URL",
    ) as info:
        census.fetch_year("imports", 2024)
    assert fake_api.request_count == 1 and sleeps == []
    assert SENTINEL_KEY not in str(info.value)


# ----------------------------------------------------------------------------------------------
# Ctrl-C: a fetch stops within seconds, without another request


def test_an_interrupt_cuts_a_back_off_short_and_sends_nothing_more(fake_api):
    # A back-off of 15 to 30 s after a 503; the interrupt comes half a second into it.
    census = CensusClient(fake_api.base_url, SENTINEL_KEY, policy=RetryPolicy(backoff_base=30))
    fake_api.script("503")
    threading.Timer(0.5, census.budget.interrupt).start()
    started = time.monotonic()
    with pytest.raises(CensusError, match="^imports 2024: not requested: the run was interrupted$"):
        census.fetch_year("imports", 2024)
    assert time.monotonic() - started < 3
    assert len(fake_api.data_requests) == 1
    with pytest.raises(CensusError, match="interrupted"):  # the run asks nothing more
        census.fetch_year("exports", 2024)
    assert len(fake_api.data_requests) == 1


def _interrupt_main_thread_once(api: FakeCensusApi, year: int) -> threading.Thread:
    """Send SIGINT to the main thread (Ctrl-C) once the request for `year` is at the API."""

    def when_asked():
        while not any(str(year) in (r.param("time") or "") for r in api.data_requests):
            time.sleep(0.02)
        time.sleep(0.2)  # the main thread is waiting for that fetch
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    thread = threading.Thread(target=when_asked, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_while_a_year_is_fetched_stops_load_years_at_once(env):
    # The API holds the 2025 request for a minute; the client would wait 2 minutes for it.
    with FakeCensusApi(fixture_dataset(), timeout_sleep=60) as api:
        census = CensusClient(api.base_url, SENTINEL_KEY, policy=RetryPolicy(backoff_base=30))
        api.set_fault_for("imports", 2025, "timeout", times=5)
        years = load_years(at_api(env, api), "imports", [2024, 2025], client=census)
        assert next(years)[1].status == "loaded"
        signaller = _interrupt_main_thread_once(api, 2025)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            next(years)  # waits for the 2025 fetch: Ctrl-C arrives here
        elapsed = time.monotonic() - started
        signaller.join()
        asked = len(api.data_requests)
        time.sleep(0.5)
        assert len(api.data_requests) == asked == 2  # 2024, and the 2025 request in flight
        assert census.budget.interrupted
    assert elapsed < 3
    assert len(list(env.landing_dir.glob("imports/2024/*"))) == 2  # the body and its manifest
    assert list(env.landing_dir.glob("imports/2025/*")) == []


@pytest.mark.parametrize("status", ["401", "403"])
def test_a_401_or_403_is_the_key_message_after_one_request(client, fake_api, status):
    census, sleeps = client
    fake_api.script(status, status, status)
    with pytest.raises(CensusAuthError) as info:
        census.fetch_year("imports", 2024)
    assert str(info.value) == (
        f"imports 2024: The Census API answered HTTP {status} instead of data: it does this when "
        "CENSUS_API_KEY is missing, invalid or not yet activated. Check CENSUS_API_KEY. " + KEY_HELP
    )
    assert fake_api.request_count == 1 and sleeps == [] and census.budget.stopped
