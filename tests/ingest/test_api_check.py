"""`atp check-api`'s checks against the fake API over real HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fake_census import FakeCensusApi, fixture_dataset, synthetic_dataset
from ingest.api_check import CheckRow, check_api
from ingest.client import CensusClient
from tests.conftest import FAST_POLICY, SENTINEL_KEY

# With the default lag of 40 days, the newest month due on 2026-05-15 is 2026-03 (March ends
# 40 days before May 10) and on 2026-02-15 it is 2025-12.
MARCH_2026 = date(2026, 5, 15)
DECEMBER_2025 = date(2026, 2, 15)
CHECKS = [
    "imports/hitech variables",
    "exports/hitech variables",
    *(
        f"{flow} {{month}} {check}"
        for flow in ("imports", "exports")
        for check in ("request", "header", "values", "totals", "reconciliation", "countries")
    ),
]


def run(api, today, policy=FAST_POLICY, **kwargs) -> list[CheckRow]:
    client = CensusClient(api.base_url, SENTINEL_KEY, policy=policy, sleep=lambda s: None)
    return check_api(api.base_url, SENTINEL_KEY, today, 40, client=client, **kwargs)


def by_check(rows: list[CheckRow]) -> dict[str, CheckRow]:
    return {row.check: row for row in rows}


def test_every_check_passes_on_an_api_of_real_size():
    with FakeCensusApi(synthetic_dataset(2025, 2026, last_month=3, seed=3)) as api:
        # A real-size answer can take over FAST_POLICY's 0.5 s on a busy CI host: no retry here.
        rows = run(api, MARCH_2026, policy=replace(FAST_POLICY, read_timeout=30))
        requests = api.requests
    assert [row.check for row in rows] == [c.format(month="2026-03") for c in CHECKS]
    assert [row for row in rows if not row.ok] == []
    found = by_check(rows)
    assert found["imports/hitech variables"].detail == (
        "imports/hitech lists CTY_CODE, CTY_NAME, HITECH, HITECH_DESC, GEN_VAL_MO, time"
    )
    assert found["exports 2026-03 request"].detail == "HTTP 200 after 1 attempt(s)"
    # 230 countries + 19 groupings + the U.S. total, 12 rows each.
    assert found["exports 2026-03 values"].detail == (
        "3,000 rows, every value a whole number of dollars"
    )
    assert found["imports 2026-03 reconciliation"].detail == (
        "250 partner(s): total = 00 + 01..10 within max($1,000, 0.1%)"
    )
    assert found["imports 2026-03 countries"].detail == (
        "230 countries (4-digit codes not starting with 0)"
    )
    # Metadata is asked without the key, data with it, for one month.
    assert [(r.path.rsplit("/", 2)[-2:], r.param("key"), r.param("time")) for r in requests] == [
        (["hitech", "variables.json"], None, None),
        (["hitech", "variables.json"], None, None),
        (["imports", "hitech"], SENTINEL_KEY, "2026-03"),
        (["exports", "hitech"], SENTINEL_KEY, "2026-03"),
    ]
    assert requests[2].param("get") == "CTY_CODE,CTY_NAME,HITECH,HITECH_DESC,GEN_VAL_MO"
    assert all(SENTINEL_KEY not in row.detail for row in rows)


def test_the_small_fixture_passes_all_but_the_country_count():
    with FakeCensusApi(fixture_dataset()) as api:
        rows = run(api, DECEMBER_2025)
        assert all(row.ok for row in run(api, DECEMBER_2025, min_countries=6))
    assert [row.check for row in rows] == [c.format(month="2025-12") for c in CHECKS]
    failed = [row for row in rows if not row.ok]
    assert failed == [
        CheckRow(
            f"{flow} 2025-12 countries",
            False,
            f"{flow} 2025-12: only 6 countries (4-digit codes not starting with 0), expected at "
            "least 100: the API may have changed its partner codes or dropped partners",
        )
        for flow in ("imports", "exports")
    ]


def test_a_variable_the_api_no_longer_lists_fails_its_row():
    with FakeCensusApi(fixture_dataset(), hidden_variables={"GEN_VAL_MO"}) as api:
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    assert found["imports/hitech variables"] == CheckRow(
        "imports/hitech variables",
        False,
        "imports/hitech no longer lists GEN_VAL_MO, which the pipeline requests: its requests "
        "would fail with HTTP 400. Check the endpoint's variables.json and update "
        "ingest/datasets.py.",
    )
    assert found["exports/hitech variables"].ok
    request = found["imports 2025-12 request"]
    assert not request.ok
    assert "HTTP 400: error: unknown variable 'GEN_VAL_MO'" in request.detail
    assert "imports 2025-12 header" not in found  # nothing to check without an answer
    assert all(row.ok for check, row in found.items() if check.startswith("exports"))


def test_a_month_not_released_yet_is_reported():
    with FakeCensusApi(fixture_dataset()) as api:  # 2026 is released up to September
        found = by_check(run(api, date(2026, 12, 15), min_countries=6))
    request = found["imports 2026-10 request"]
    assert not request.ok and request.detail.startswith(
        "imports 2026-10: HTTP 204, no data for the newest month due (40 days after its end)"
    )


class _Altered:
    """The fixture with some rows changed or dropped by `change(row) -> row | None`."""

    def __init__(self, change):
        self._base, self._change = fixture_dataset(), change

    def rows(self, flow, year):
        rows = self._base.rows(flow, year)
        if rows is None:
            return None
        return [r for r in (self._change(dict(row)) for row in rows) if r is not None]


def _bump(amount):
    def change(row):
        if row["CTY_CODE"] == "2010" and row["HITECH"] == "05":
            row["value"] += amount
        return row

    return change


def test_a_partner_whose_groups_do_not_add_up_fails_reconciliation():
    # Mexico's December imports: 40 bn in all; 0.1% of that is 40 million.
    with FakeCensusApi(_Altered(_bump(41_000_000))) as api:
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    assert found["imports 2025-12 reconciliation"] == CheckRow(
        "imports 2025-12 reconciliation",
        False,
        "imports 2025-12: 1 of 9 partner(s) break total = 00 + 01..10 within max($1,000, 0.1%), "
        "e.g. 2010 MEXICO: total 40,000,000,000 but 00 + 01..10 = 40,041,000,000",
    )


@pytest.mark.parametrize("amount", [900, 39_000_000])
def test_a_difference_within_the_tolerance_reconciles(amount):
    with FakeCensusApi(_Altered(_bump(amount))) as api:
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    assert found["imports 2025-12 reconciliation"].ok


def test_missing_total_markers_fail_the_totals_row():
    def drop_totals(row):
        return None if row["CTY_CODE"] == "-" or row["HITECH"] == "-" else row

    with FakeCensusApi(_Altered(drop_totals)) as api:
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    assert found["exports 2025-12 totals"] == CheckRow(
        "exports 2025-12 totals",
        False,
        "exports 2025-12: no U.S. total row (CTY_CODE '-' or '') and no all-commodities rows "
        "(HITECH '-' or ''): the API may have changed its total markers",
    )
    assert not found["exports 2025-12 reconciliation"].ok


def test_missing_values_are_counted_and_left_out_of_the_reconciliation():
    with FakeCensusApi(fixture_dataset(), blank_values=2) as api:
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    assert found["imports 2025-12 values"].detail == (
        "108 rows, every value a whole number of dollars or missing (2 empty or null)"
    )
    assert found["imports 2025-12 reconciliation"].detail == (
        "7 partner(s): total = 00 + 01..10 within max($1,000, 0.1%); 2 not checked (missing values)"
    )


def test_a_value_that_is_not_a_number_fails_the_values_row():
    with FakeCensusApi(fixture_dataset()) as api:
        api.script("bad_value")
        found = by_check(run(api, DECEMBER_2025, min_countries=6))
    values = found["imports 2025-12 values"]
    assert not values.ok and "GEN_VAL_MO='N/A', which is not a non-negative whole number" in (
        values.detail
    )


def test_a_refused_key_is_reported_once_and_never_shown():
    with FakeCensusApi(fixture_dataset(), valid_keys={"the-real-key"}) as api:
        found = by_check(run(api, DECEMBER_2025))
        assert len(api.data_requests) == 1
    assert found["imports/hitech variables"].ok  # metadata needs no key
    imports, exports = found["imports 2025-12 request"], found["exports 2025-12 request"]
    assert not imports.ok and "CENSUS_API_KEY" in imports.detail
    assert exports.detail.startswith(
        "exports 2025-12: not requested: the Census API refused the key for imports 2025-12"
    )
    assert all(SENTINEL_KEY not in row.detail for row in found.values())


@pytest.mark.parametrize("key", [None, ""])
def test_without_a_key_only_the_metadata_is_checked(key):
    with FakeCensusApi(fixture_dataset()) as api:
        rows = check_api(api.base_url, key, DECEMBER_2025, 40)
        assert len(api.data_requests) == 0
    assert [(row.check, row.ok) for row in rows] == [
        ("imports/hitech variables", True),
        ("exports/hitech variables", True),
        ("imports 2025-12 request", False),
        ("exports 2025-12 request", False),
    ]
    assert rows[2].detail.startswith("not asked: CENSUS_API_KEY is not set")


def test_a_down_api_fails_every_row_after_one_requests_retries():
    with FakeCensusApi(fixture_dataset()) as api:
        base_url = api.base_url
    client = CensusClient(base_url, SENTINEL_KEY, policy=FAST_POLICY, sleep=lambda s: None)
    # The server is gone: every connection is refused.
    rows = check_api(base_url, SENTINEL_KEY, DECEMBER_2025, 40, client=client)
    assert [row.ok for row in rows] == [False] * 4
    assert "did not answer usefully after 4 attempt(s)" in rows[0].detail
    assert all("not requested" in row.detail for row in rows[1:])
