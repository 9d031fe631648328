"""The Census client against the fake API over real HTTP: requests, retries and fatal errors."""

from __future__ import annotations

import pytest

from ingest.client import CensusClient, RetryPolicy
from ingest.errors import (
    CensusAuthError,
    CensusRequestError,
    CensusResponseError,
    CensusUnavailableError,
    ConfigError,
)
from ingest.settings import Settings
from tests.conftest import FAST_POLICY, SENTINEL_KEY
from fake_census import FakeCensusApi, fixture_dataset

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
