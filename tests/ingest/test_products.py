"""Product detail's query plan against the fake API over real HTTP: batches of ATP codes within
the URL limit, adaptive splitting of answers too large to come, and products that add up to
the hitech values."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import requests

from fake_census import FakeCensusApi, fixture_dataset
from fake_census.code_lists import FIXTURE_CODES
from ingest.census_format import content_hash, parse_table
from ingest.client import CensusClient, RetryBudget, RetryPolicy
from ingest.datasets import HS
from ingest.errors import CensusUnavailableError
from ingest.products import MAX_URL_CHARS, Part, fetch_products, plan, product_fetch
from tests.conftest import FAST_POLICY, SENTINEL_KEY

CODES = [code for _, code, _ in FIXTURE_CODES]
GROUP = {code: group for group, code, _ in FIXTURE_CODES}


@pytest.fixture
def api():
    with FakeCensusApi(fixture_dataset(), timeout_sleep=0.3) as served:
        yield served


def _client(api, max_in_flight: int = 4, policy: RetryPolicy = FAST_POLICY) -> CensusClient:
    return CensusClient(
        api.base_url,
        SENTINEL_KEY,
        policy=policy,
        budget=RetryBudget(max_in_flight),
        sleep=lambda seconds: None,
    )


def _fetched(client, flow, year, codes, folder):
    """The year's answers as fetched into `folder` and checked by DuckDB, and their rows as
    census_format reads each answer on its own (the reference the DuckDB checks must meet)."""
    answers = fetch_products(client, flow, year, codes, folder)
    fetch = product_fetch(client, flow, year, answers, datetime.now(UTC))
    rows = [
        row
        for answer in answers.files
        for row in parse_table(answer.path.read_bytes(), flow, year, HS).rows
    ]
    return fetch, answers, rows


def _by_group(rows) -> dict[tuple[str, str, str], int]:
    """Product values summed to (partner, ATP group, month), countries only."""
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for partner, _, code, _, value, month in rows:
        if partner != "-":
            sums[(partner, GROUP[code], month)] += int(value)
    return dict(sums)


def _hitech(client: CensusClient, flow: str, year: int) -> dict[tuple[str, str, str], int]:
    table = client.fetch_year(flow, year)
    return {
        (partner, group, month): int(value)
        for partner, _, group, _, value, month in table.table.rows
        if partner not in ("-", "") and not partner.startswith("00") and "X" not in partner
        and group in GROUP.values() and int(value)  # zero trade is left out of products
    }  # fmt: skip


def test_the_codes_go_in_as_few_requests_as_fit_the_url_limit(api):
    client = _client(api)
    codes = [f"{n:010d}" for n in range(8471000000, 8471000600)]  # 600 codes, as the live lists
    parts = plan(client, "imports", 2024, codes)
    assert [code for part in parts for code in part.codes] == codes  # each once, in order
    lengths = [
        len(f"{api.base_url}/imports/hs?{urlencode(p.params('imports', 2024))}&key={SENTINEL_KEY}")
        for p in parts
    ]
    assert max(lengths) <= MAX_URL_CHARS
    assert len(parts) == 3  # ~230 codes of 23 characters each per request: 600 codes in 3
    assert min(lengths) > 2000  # (the last request holds what is left)


def test_a_year_of_products_adds_up_to_the_hitech_groups_to_the_dollar(api, tmp_path):
    client = _client(api)
    fetch, answers, rows = _fetched(client, "exports", 2025, CODES, tmp_path)
    (request,) = api.product_requests
    assert request.path == "/data/timeseries/intltrade/exports/hs"
    names = [name for name, _ in request.query]
    assert names == ["get", "COMM_LVL", "SUMMARY_LVL", *["E_COMMODITY"] * len(CODES), "time", "key"]
    assert request.param("COMM_LVL") == "HS10" and request.param("SUMMARY_LVL") == "DET"
    assert fetch.table.dataset is HS and len(answers.asked) == 1 and fetch.attempts == 1
    assert fetch.table.columns == tuple(HS.columns("exports")) == (
        "CTY_CODE", "CTY_NAME", "E_COMMODITY", "E_COMMODITY_SDESC", "ALL_VAL_MO", "time",
    )  # fmt: skip
    assert _by_group(rows) == _hitech(client, "exports", 2025)
    assert fetch.table.months == [f"2025-{m:02d}" for m in range(1, 13)]
    # DuckDB's checks agree with census_format's reading, to the content hash.
    assert fetch.table.row_count == len(rows) and fetch.table.missing_values == 0
    assert fetch.table.content_hash == content_hash(fetch.table.columns, rows)
    # The answer is on disk as the API sent it: what the landing zone keeps and the loader reads.
    (answer,) = answers.files
    sent = requests.get(f"{api.base_url}/exports/hs", params=request.query, timeout=10)
    assert answer.path.read_bytes() == sent.content
    assert answer.path.read_bytes().startswith(b'[["CTY_CODE","CTY_NAME","E_COMMODITY"')


def test_an_answer_too_large_to_come_is_split_and_the_totals_do_not_change(api, tmp_path):
    whole, _, whole_rows = _fetched(_client(api), "imports", 2024, CODES, tmp_path / "whole")
    api.reset()
    api.max_answer_rows = 400  # the whole year's ~2,900 rows never come: HTTP 504
    split, answers, rows = _fetched(_client(api), "imports", 2024, CODES, tmp_path / "split")
    statuses = [request.status for request in api.product_requests]
    assert statuses.count(504) >= 3 and statuses.count(200) == len(answers.asked) > 1
    assert all(len(request.query) < 40 for request in api.product_requests)
    # Never the same request twice: each one asked for less than the one that failed.
    queries = [tuple(request.query) for request in api.product_requests]
    assert len(set(queries)) == len(queries)
    assert sorted(rows) == sorted(whole_rows)
    assert split.table.content_hash == whole.table.content_hash
    assert split.table.row_count == whole.table.row_count == len(whole_rows)
    assert answers.planned == 1 and answers.note() == f"{len(answers.asked)} request(s), " + (
        f"{len(answers.asked) - 1} more after splits"
    )
    sizes = [len(parse_table(a.path.read_bytes(), "imports", 2024, HS).rows) for a in answers.files]
    assert max(sizes) <= 400


def test_one_code_still_too_large_is_split_by_months(api, tmp_path):
    api.max_answer_rows = 20  # one code's year for every country is more than that
    fetch, answers, rows = _fetched(_client(api), "imports", 2024, CODES[:1], tmp_path)
    periods = {(a.part.first_month, a.part.last_month) for a in answers.asked}
    assert all(last - first < 11 for first, last in periods)  # the year came in parts
    months = sorted({row[5] for row in rows})
    assert months == fetch.table.months == [f"2024-{m:02d}" for m in range(1, 13)]


def test_one_code_one_month_that_never_comes_fails_after_the_usual_retries(api, tmp_path):
    api.max_answer_rows = 1
    with pytest.raises(CensusUnavailableError, match=r"imports 2024 products: .*HTTP 504"):
        fetch_products(_client(api), "imports", 2024, CODES[:1], tmp_path)
    # The smallest request (one code, one month) was asked once to be split, then had the usual
    # four attempts of FAST_POLICY; no other request was asked more than once.
    asked: dict[tuple, int] = defaultdict(int)
    for request in api.product_requests:
        asked[tuple(request.query)] += 1
    (retried,) = [dict(query)["time"] for query, times in asked.items() if times > 1]
    assert asked[max(asked, key=asked.get)] == 1 + FAST_POLICY.max_attempts
    assert retried.split()[1] == retried.split()[3]  # one month


def test_a_year_not_released_is_a_204(api, tmp_path):
    fetch, answers, _ = _fetched(_client(api), "imports", 2030, CODES, tmp_path)
    assert not fetch.released and fetch.table is None
    assert [a.answer for a in answers.asked] == [None] and list(tmp_path.iterdir()) == []


def test_no_more_requests_in_flight_than_the_run_allows(api, tmp_path):
    # Every request waits 0.3 s in the fake: several would overlap if the cap let them.
    api.set_fault_for("imports", 2024, "timeout", times=100, source="hs")
    codes = [f"{n:010d}" for n in range(8471000000, 8471001200)]
    client = _client(api, max_in_flight=2, policy=RetryPolicy(read_timeout=5))
    fetch_products(client, "imports", 2024, codes, tmp_path)
    assert len(api.product_requests) == len(plan(client, "imports", 2024, codes)) == 5
    assert api.max_concurrent_requests == 2


def test_the_plan_halves_codes_first_then_months():
    part = Part(("a", "b", "c"))
    assert part.halves() == (Part(("a",)), Part(("b", "c")))
    assert Part(("a",)).halves() == (Part(("a",), 1, 6), Part(("a",), 7, 12))
    assert Part(("a",), 7, 9).halves() == (Part(("a",), 7, 8), Part(("a",), 9, 9))
    assert Part(("a",), 4, 4).halves() is None
