"""Tests of the offline fake Census International Trade API (fake_census)."""

from __future__ import annotations

import email.utils
import re
import socket
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fake_census import (
    ATP_CODES,
    ERROR_500_TEXT,
    HITECH_CODES,
    HITECH_DESC,
    TOTAL,
    FakeCensusApi,
    fixture_dataset,
    revised_fixture_dataset,
    synthetic_dataset,
)
from fake_census.synthetic import GROUPING_MEMBERS, N_COUNTRIES

KEY = "k" * 40
IMP_GET = "CTY_CODE,CTY_NAME,HITECH,HITECH_DESC,GEN_VAL_MO,GEN_VAL_YR"
EXP_GET = "CTY_CODE,CTY_NAME,HITECH,HITECH_DESC,ALL_VAL_MO,ALL_VAL_YR"
COUNTRY_RE = re.compile(r"^[1-9]\d{3}$")


@pytest.fixture(scope="module")
def shared():
    """One server for the read-only tests (faults need their own, see `api`)."""
    with FakeCensusApi(fixture_dataset()) as api:
        yield api


@pytest.fixture
def api():
    with FakeCensusApi(fixture_dataset(), timeout_sleep=2.0) as api:
        yield api


def call(api, flow="imports", query=None, *, key=KEY, timeout=5, **kw):
    """GET {base}/{flow}/hitech with `query` (dict, list of pairs, or a raw query string)."""
    url = f"{api.base_url}/{flow}/hitech"
    if isinstance(query, str):
        return requests.get(f"{url}?{query}", timeout=timeout, allow_redirects=False, **kw)
    params = list((query or {}).items()) if isinstance(query, dict) else list(query or [])
    if key is not None:
        params.append(("key", key))
    return requests.get(url, params=params, timeout=timeout, allow_redirects=False, **kw)


def records(resp):
    """Rows of a 200 response as dicts (first occurrence wins for duplicated columns)."""
    header, *rows = resp.json()
    return [{h: row[i] for i, h in reversed(list(enumerate(header)))} for row in rows]


def year_records(api, flow, year, get=None):
    resp = call(
        api,
        flow,
        {
            "get": get or (IMP_GET if flow == "imports" else EXP_GET),
            "time": f"from {year}-01 to {year}-12",
        },
    )
    assert resp.status_code == 200
    return records(resp)


def is_total(code):
    return code in ("-", "")


def value_col(flow):
    return "GEN_VAL_MO" if flow == "imports" else "ALL_VAL_MO"


# ----------------------------------------------------------------------------------------------
# Response format


def test_header_column_order_and_string_values(shared):
    resp = call(shared, "imports", {"get": IMP_GET, "time": "2025-03"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert resp.text.startswith('[["CTY_CODE",') and '],\n["' in resp.text  # a row per line
    table = resp.json()
    assert table[0] == IMP_GET.split(",") + ["time"]
    # (6 countries + 2 groupings + U.S. total) x (total + 00..10)
    assert len(table) == 1 + 9 * 12
    assert all(isinstance(v, str) for row in table for v in row)
    assert {row[-1] for row in table[1:]} == {"2025-03"}
    assert all(len(row) == len(table[0]) for row in table)


def test_predicates_appended_in_order_and_duplicated(shared):
    resp = call(
        shared,
        "imports",
        [
            ("get", "CTY_NAME,CTY_CODE,GEN_VAL_MO"),
            ("CTY_CODE", "2010"),
            ("time", "2025-01"),
            ("CTY_CODE", "5700"),
            ("HITECH", "04"),
        ],
    )
    table = resp.json()
    assert table[0] == ["CTY_NAME", "CTY_CODE", "GEN_VAL_MO", "CTY_CODE", "time", "HITECH"]
    assert table[1:] == [
        ["MEXICO", "2010", "5000000000", "2010", "2025-01", "04"],  # 50% of 10e9
        ["CHINA", "5700", "4500000000", "5700", "2025-01", "04"],  # 50% of 9e9
    ]


@pytest.mark.parametrize("space", ["+", "%20"])
def test_time_range_encodings_and_ytd_reset(shared, space):
    q = f"get=CTY_CODE,HITECH,GEN_VAL_MO,GEN_VAL_YR&time=from{space}2025-11{space}to{space}2026-02"
    resp = call(shared, "imports", f"{q}&CTY_CODE=2010&HITECH=-&key={KEY}")
    rows = records(resp)
    assert [r["time"] for r in rows] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    # Mexico all commodities: 2025 = 30e9 + 10e9 a month, 2026 = 30e9 + 11e9; YTD restarts in Jan.
    assert [r["GEN_VAL_MO"] for r in rows] == ["40000000000"] * 2 + ["41000000000"] * 2
    assert [r["GEN_VAL_YR"] for r in rows] == [
        "440000000000",
        "480000000000",
        "41000000000",
        "82000000000",
    ]
    assert shared.requests[-1].param("time") == "from 2025-11 to 2026-02"  # recorded decoded


def test_whole_year_partial_year_and_open_range(shared):
    def months(t):
        return sorted(
            {r["time"] for r in records(call(shared, "exports", {"get": "HITECH", "time": t}))}
        )

    assert months("2024") == [f"2024-{m:02d}" for m in range(1, 13)]
    assert months("2026") == [f"2026-{m:02d}" for m in range(1, 10)]
    assert months("from 2025-12") == ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 10)]


@pytest.mark.parametrize(
    "query",
    [
        {"get": "CTY_CODE", "time": "2023"},
        {"get": "CTY_CODE", "time": "2027-01"},
        {"get": "CTY_CODE", "time": "from 2026-10 to 2026-12"},  # 2026 released up to September
        {"get": "CTY_CODE", "time": "2024-05", "CTY_CODE": "5520"},  # no Vietnam rows in 2024
    ],
)
def test_no_data_is_204_with_empty_body(shared, query):
    resp = call(shared, "imports", query)
    assert resp.status_code == 204 and resp.content == b""


@pytest.mark.parametrize(
    "query, message",
    [
        ({"get": "CTY_CODE,ALL_VAL_MO", "time": "2025-01"}, "error: unknown variable 'ALL_VAL_MO'"),
        ({"get": "CTY_CODE,time", "time": "2025-01"}, "error: unknown variable 'time'"),
        ({"get": "CTY_CODE", "time": "2025-01", "FOO": "1"}, "error: unknown variable 'FOO'"),
        ({"time": "2025-01"}, None),
        ({"get": "CTY_CODE"}, None),
        ({"get": "CTY_CODE", "time": "2025-13"}, None),
        ({"get": "CTY_CODE", "time": "from 2025-05 to 2025-01"}, None),
        ({"get": "CTY_CODE", "time": "last year"}, None),
    ],
)
def test_bad_requests_are_400_text(shared, query, message):
    resp = call(shared, "imports", query)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert "\n" not in resp.text.strip()
    if message:
        assert resp.text == message


def test_direction_specific_variables(shared):
    assert call(shared, "exports", {"get": "GEN_VAL_MO", "time": "2025-01"}).status_code == 400
    exp = records(
        call(
            shared,
            "exports",
            {
                "get": "CTY_CODE,ALL_VAL_MO,DF",
                "time": "2025-01",
                "CTY_CODE": "1220",
                "HITECH": "00",
            },
        )
    )
    assert exp == [
        {
            "CTY_CODE": "1220",
            "ALL_VAL_MO": "24000000000",
            "DF": "-",
            "time": "2025-01",
            "HITECH": "00",
        }
    ]
    imp = records(
        call(
            shared,
            "imports",
            {
                "get": "GEN_VAL_MO,CON_VAL_MO,CON_VAL_YR",
                "time": "2025-02",
                "CTY_CODE": "1220",
                "HITECH": "-",
            },
        )
    )
    assert imp[0]["CON_VAL_MO"] == imp[0]["GEN_VAL_MO"] == "26200000000"
    assert imp[0]["CON_VAL_YR"] == "52400000000"


def test_summary_level_year_month_and_predicate_filters(shared):
    rows = records(
        call(
            shared,
            "imports",
            {"get": "CTY_CODE,SUMMARY_LVL,YEAR,MONTH", "time": "2025-03", "HITECH": "-"},
        )
    )
    lvl = {r["CTY_CODE"]: r["SUMMARY_LVL"] for r in rows}
    assert lvl == {
        "-": "DET",
        "0003": "CGP",
        "5XXX": "CGP",
        "2010": "DET",
        "5700": "DET",
        "5830": "DET",
        "4280": "DET",
        "1220": "DET",
        "5520": "DET",
    }
    assert {(r["YEAR"], r["MONTH"]) for r in rows} == {("2025", "03")}
    det = records(
        call(
            shared,
            "imports",
            {"get": "CTY_CODE", "time": "2025-03", "HITECH": "-", "SUMMARY_LVL": "DET"},
        )
    )
    assert {r["CTY_CODE"] for r in det} == {"-", "2010", "5700", "5830", "4280", "1220", "5520"}
    by_year = records(
        call(
            shared,
            "imports",
            {"get": "CTY_CODE", "YEAR": "2026", "MONTH": "9", "CTY_CODE": "5830", "HITECH": "05"},
        )
    )
    assert by_year == [{"CTY_CODE": "5830", "YEAR": "2026", "MONTH": "09", "HITECH": "05"}]


def test_total_predicate_matches_both_marker_forms(shared):
    old = call(
        shared,
        "imports",
        {"get": "CTY_NAME,HITECH", "time": "2024-01", "CTY_CODE": "-", "HITECH": "-"},
    ).json()
    assert old == [
        ["CTY_NAME", "HITECH", "time", "CTY_CODE", "HITECH"],
        ["TOTAL FOR ALL COUNTRIES", "", "2024-01", "", ""],
    ]
    new = call(
        shared, "imports", {"get": "CTY_NAME", "time": "2025-01", "CTY_CODE": "-", "HITECH": "-"}
    ).json()
    assert new[1] == ["TOTAL FOR ALL COUNTRIES", "2025-01", "-", "-"]


def test_unknown_paths_are_404_html(shared):
    for path in ("/imports/naics", "/imports", "/services/hitech"):
        resp = requests.get(
            f"{shared.base_url}{path}?get=CTY_CODE&time=2025-01&key={KEY}", timeout=5
        )
        assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")
    assert requests.get(f"{shared.root_url}/", timeout=5).status_code == 404


# ----------------------------------------------------------------------------------------------
# Key handling and request recording


@pytest.mark.parametrize("key", [None, ""])
def test_missing_key_redirects(shared, key):
    resp = call(shared, "imports", {"get": "CTY_CODE", "time": "2025-01"}, key=key)
    assert resp.status_code == 302
    assert resp.headers["X-DataWebAPI-KeyError"] == "missing key"
    assert resp.headers["Location"].endswith("/data/key_signup.html")
    assert resp.headers["Content-Type"].startswith("text/html")
    # A client that follows redirects ends on a 200 HTML page, as with the real API.
    params = {"get": "CTY_CODE", "time": "2025-01", **({} if key is None else {"key": key})}
    followed = requests.get(f"{shared.base_url}/imports/hitech", params=params, timeout=5)
    assert followed.status_code == 200 and followed.headers["Content-Type"].startswith("text/html")
    assert "Missing Key" in followed.text


def test_invalid_key_redirects_and_key_is_never_echoed():
    with FakeCensusApi(fixture_dataset(), valid_keys={"good-key"}) as api:
        bad = call(api, "imports", {"get": "CTY_CODE", "time": "2025-01"}, key="secret-bad-key")
        assert bad.status_code == 302
        assert bad.headers["X-DataWebAPI-KeyError"] == "invalid key"
        good = call(api, "imports", {"get": "CTY_CODE", "time": "2025-01"}, key="good-key")
        assert good.status_code == 200
        for resp in (bad, good):
            assert "secret-bad-key" not in resp.text and "good-key" not in resp.text
            assert not any("key" in v and "-key" in v for v in resp.headers.values())
        assert [r.param("key") for r in api.requests] == ["secret-bad-key", "good-key"]
        assert [r.status for r in api.requests] == [302, 200]
        assert api.request_count == 2


def test_requests_are_recorded_decoded(api):
    call(api, "exports", [("get", "CTY_CODE,ALL_VAL_MO"), ("time", "from 2025-01 to 2025-02")])
    (rec,) = api.requests
    assert rec.method == "GET" and rec.path.endswith("/intltrade/exports/hitech")
    assert rec.query == [
        ("get", "CTY_CODE,ALL_VAL_MO"),
        ("time", "from 2025-01 to 2025-02"),
        ("key", KEY),
    ]
    assert api.request_count == 1 and len(api.data_requests) == 1


# ----------------------------------------------------------------------------------------------
# Scripted faults

Q = {"get": IMP_GET, "time": "2025-01"}


def test_faults_are_consumed_in_order(api):
    api.script("500", "503")
    assert [call(api, "imports", Q).status_code for _ in range(3)] == [500, 503, 200]
    assert [r.fault for r in api.requests] == ["500", "503", None]
    with pytest.raises(ValueError):
        api.script("explode")


@pytest.mark.parametrize("fault, retry_after", [("429", 1), ("429", 7)])
def test_fault_429_seconds(api, fault, retry_after):
    api.retry_after = retry_after
    api.script(fault)
    resp = call(api, "imports", Q)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == str(retry_after)


def test_fault_429_http_date(api):
    api.retry_after = 5
    api.script("429-date")
    resp = call(api, "imports", Q)
    assert resp.status_code == 429
    when = email.utils.parsedate_to_datetime(resp.headers["Retry-After"])
    delta = (when - datetime.now(UTC)).total_seconds()
    assert 2 <= delta <= 6


def test_fault_500_text(api):
    api.script("500")
    resp = call(api, "imports", Q)
    assert resp.status_code == 500 and resp.text == ERROR_500_TEXT
    assert resp.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "fault, status", [("503", 503), ("502", 502), ("504", 504), ("redirect", 302), ("400", 400)]
)
def test_fault_status(api, fault, status):
    api.script(fault)
    resp = call(api, "imports", Q)
    assert resp.status_code == status
    if fault == "redirect":
        assert "X-DataWebAPI-KeyError" in resp.headers and "Location" in resp.headers
    if fault == "400":
        assert resp.text.startswith("error: unknown variable")


def test_fault_204(api):
    api.script("204")
    resp = call(api, "imports", Q)
    assert resp.status_code == 204 and resp.content == b""


def test_fault_html_invalid_key_page(api):
    api.script("html")
    resp = call(api, "imports", Q)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "A valid key must be included with each data API request." in resp.text


def test_fault_html_key_error_is_marked_by_the_header_only(api):
    api.script("html_key_error")
    resp = call(api, "imports", Q)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert resp.headers["X-DataWebAPI-KeyError"] == "invalid key"
    assert "key" not in resp.text.lower()


def test_fault_html_maintenance_page_has_a_title_and_no_word_about_the_key(api):
    api.script("html_maintenance")
    resp = call(api, "imports", Q)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "<title>Service Unavailable - Maintenance</title>" in resp.text
    assert "key" not in resp.text.lower() and "X-DataWebAPI-KeyError" not in resp.headers


def test_fault_redirects_to_maintenance_or_a_new_address(api):
    api.script("redirect_maintenance", "redirect_moved")
    maintenance = call(api, "imports", Q)
    assert maintenance.status_code == 302 and "X-DataWebAPI-KeyError" not in maintenance.headers
    target = urlsplit(maintenance.headers["Location"])
    assert target.path == "/data/maintenance.html"
    assert f"key={KEY}" in parse_qs(target.query)["from"][0]  # the request echoed, key and all
    followed = requests.get(maintenance.headers["Location"], timeout=5)
    assert followed.status_code == 200 and "Service Unavailable - Maintenance" in followed.text
    moved = call(api, "imports", Q)
    assert moved.status_code == 301
    assert urlsplit(moved.headers["Location"]).path == "/data/v2" + urlsplit(moved.url).path


def test_key_redirects_can_leave_out_the_key_error_header():
    with FakeCensusApi(fixture_dataset(), valid_keys={"good"}, key_error_header=False) as api:
        resp = call(api, "imports", Q, key="bad")
        assert resp.status_code == 302 and "X-DataWebAPI-KeyError" not in resp.headers
        assert resp.headers["Location"].endswith("/data/invalid_key.html")


def test_fault_timeout_then_normal_answer(api):
    api.script("timeout")
    t0 = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(api, "imports", Q, timeout=0.3)
    assert time.monotonic() - t0 < 1.5
    assert call(api, "imports", Q).status_code == 200  # not blocked by the sleeping handler
    # With a patient client the delayed answer is the normal one.
    api.timeout_sleep = 0.2
    api.script("timeout")
    assert call(api, "imports", Q, timeout=5).json() == call(api, "imports", Q).json()


def test_fault_drop_mid_body(api):
    api.script("drop")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        call(api, "imports", Q)
    # Streaming shows the server promised the full length.
    api.script("drop")
    resp = call(api, "imports", Q, stream=True)
    full = len(call(api, "imports", Q).content)
    assert resp.status_code == 200 and int(resp.headers["Content-Length"]) == full
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        resp.content  # noqa: B018


def test_fault_malformed_json(api):
    api.script("malformed_json")
    resp = call(api, "imports", Q)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    assert len(resp.content) == int(resp.headers["Content-Length"])  # fully sent
    with pytest.raises(ValueError):
        resp.json()


def test_fault_header_only(api):
    api.script("header_only")
    assert call(api, "imports", Q).json() == [IMP_GET.split(",") + ["time"]]


def test_data_shape_faults(api):
    normal = call(api, "imports", Q).json()
    api.script("missing_column", "bad_value", "bad_value_decimal", "duplicate_row")
    missing, bad, bad_dec, dup = (call(api, "imports", Q).json() for _ in range(4))
    assert missing[0] == ["CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "GEN_VAL_MO", "time"]
    assert all(len(r) == 6 for r in missing) and len(missing) == len(normal)
    col = normal[0].index("GEN_VAL_YR")
    assert bad[1][col] == "N/A" and bad_dec[1][col] == "12.5"
    assert bad[2:] == normal[2:] and bad_dec[2:] == normal[2:]
    assert len(dup) == len(normal) + 1 and dup[1] == dup[2] == normal[1]


def test_fault_targeted_at_one_partition(api):
    api.set_fault_for("imports", 2025, "500", times=2)
    assert call(api, "imports", {"get": "HITECH", "time": "2024-06"}).status_code == 200
    assert call(api, "exports", {"get": "HITECH", "time": "2025-06"}).status_code == 200
    wide = {"get": "HITECH", "time": "from 2024-06 to 2025-02"}
    assert call(api, "imports", wide).status_code == 500
    assert call(api, "imports", {"get": "HITECH", "time": "2025"}).status_code == 500
    assert call(api, "imports", {"get": "HITECH", "time": "2025"}).status_code == 200
    assert api.pending_faults == 0


# ----------------------------------------------------------------------------------------------
# Options: missing values, row order, metadata


def test_blank_values_empties_value_cells_of_some_rows_as_empty_or_null(api):
    normal = call(api, "imports", Q).json()
    api.blank_values = 3
    blanked = call(api, "imports", Q).json()
    assert blanked[0] == normal[0] and len(blanked) == len(normal)
    gen, ytd = normal[0].index("GEN_VAL_MO"), normal[0].index("GEN_VAL_YR")
    changed = [i for i, row in enumerate(blanked) if row != normal[i]]
    assert len(changed) == 3 and 1 in changed  # spread over the table, from the first data row
    assert [blanked[i][gen] for i in changed] == ["", None, ""]
    assert [blanked[i][ytd] for i in changed] == ["", None, ""]
    for i in changed:  # only the value cells
        assert [c for j, c in enumerate(blanked[i]) if j not in (gen, ytd)] == [
            c for j, c in enumerate(normal[i]) if j not in (gen, ytd)
        ]
    assert call(api, "imports", {"get": "CTY_CODE,HITECH", "time": "2025-01"}).json()[1][0] != ""


def test_reverse_rows_serves_the_same_rows_in_another_order(api):
    normal = call(api, "exports", {"get": EXP_GET, "time": "2025"}).json()
    api.reverse_rows = True
    reverse = call(api, "exports", {"get": EXP_GET, "time": "2025"}).json()
    assert reverse[0] == normal[0] and reverse[1:] == normal[:0:-1]


@pytest.mark.parametrize("flow", ["imports", "exports"])
def test_variables_json_lists_the_endpoint_variables_without_a_key(shared, flow):
    resp = requests.get(f"{shared.base_url}/{flow}/hitech/variables.json", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    listed = resp.json()["variables"]
    value = "GEN_VAL_MO" if flow == "imports" else "ALL_VAL_MO"
    assert {"CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", value, "time"} <= set(listed)
    assert ("ALL_VAL_MO" in listed) is (flow == "exports")
    assert listed[value]["predicateType"] == "int" and listed[value]["label"]
    assert listed["time"]["predicateOnly"] is True and listed["time"]["required"] == "true"
    assert shared.requests[-1].param("key") is None


def test_hidden_variables_leave_the_listing_and_the_data():
    with FakeCensusApi(fixture_dataset(), hidden_variables={"GEN_VAL_MO"}) as api:
        listed = requests.get(f"{api.base_url}/imports/hitech/variables.json", timeout=5).json()
        assert "GEN_VAL_MO" not in listed["variables"] and "GEN_VAL_YR" in listed["variables"]
        resp = call(api, "imports", {"get": "CTY_CODE,GEN_VAL_MO", "time": "2025-01"})
        assert resp.status_code == 400 and resp.text == "error: unknown variable 'GEN_VAL_MO'"
        assert call(api, "exports", {"get": "ALL_VAL_MO", "time": "2025-01"}).status_code == 200


# ----------------------------------------------------------------------------------------------
# Fixture arithmetic (through the server)


@pytest.mark.parametrize("flow", ["imports", "exports"])
@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_fixture_is_consistent(shared, flow, year):
    rows = year_records(shared, flow, year)
    col = value_col(flow)
    val = {
        (r["time"], r["CTY_CODE"], "T" if is_total(r["HITECH"]) else r["HITECH"]): int(r[col])
        for r in rows
    }
    months = sorted({r["time"] for r in rows})
    partners = sorted({r["CTY_CODE"] for r in rows})
    countries = [p for p in partners if COUNTRY_RE.match(p)]
    (us,) = [p for p in partners if is_total(p)]
    for t in months:
        for p in partners:  # total = 00 + 01..10 for every partner-month
            assert val[(t, p, "T")] == sum(val[(t, p, h)] for h in HITECH_CODES)
        for h in ("T", *HITECH_CODES):  # U.S. total = exact sum of the countries
            assert val[(t, us, h)] == sum(val[(t, c, h)] for c in countries)
            assert val[(t, "0003", h)] == 4 * val[(t, "4280", h)]
            assert val[(t, "5XXX", h)] == sum(
                val[(t, c, h)] for c in ("5700", "5830", "5520") if c in countries
            )
    # YTD = running sum of the monthly values within the year
    for p in partners:
        mo = [int(r[col]) for r in rows if r["CTY_CODE"] == p and is_total(r["HITECH"])]
        yr = [
            int(r[col.replace("_MO", "_YR")])
            for r in rows
            if r["CTY_CODE"] == p and is_total(r["HITECH"])
        ]
        assert yr == [sum(mo[: i + 1]) for i in range(len(mo))]
    # matches the expectation table the fixture module exposes
    expected = fixture_dataset().monthly_values(flow, year)
    for (_t, p, h), v in val.items():
        assert v == expected[TOTAL if is_total(p) else p][TOTAL if h == "T" else h]


def test_fixture_shape_by_year(shared):
    for year, months, has_vietnam, marker in [
        (2024, 12, False, ""),
        (2025, 12, True, "-"),
        (2026, 9, True, "-"),
    ]:
        rows = year_records(shared, "imports", year)
        assert len({r["time"] for r in rows}) == months
        assert ("5520" in {r["CTY_CODE"] for r in rows}) is has_vietnam
        total_rows = [r for r in rows if r["HITECH_DESC"] == "TOTAL FOR ALL COMMODITIES"]
        assert {r["HITECH"] for r in total_rows} == {marker}
        us = [r for r in rows if r["CTY_NAME"] == "TOTAL FOR ALL COUNTRIES"]
        assert {r["CTY_CODE"] for r in us} == {marker}
        assert {"-", ""} - {marker} & {r["CTY_CODE"] for r in rows} == set()
        # every HITECH code gets a row for every partner-month, even when 0
        assert len(rows) == months * (9 if has_vietnam else 8) * 12
        assert {(r["HITECH"], r["HITECH_DESC"]) for r in rows if r["HITECH"] not in ("-", "")} == {
            (h, HITECH_DESC[h]) for h in HITECH_CODES
        }


def test_fixture_hand_computed_values(shared):
    def one(flow, time_, cty, hitech, col):
        rows = records(
            call(shared, flow, {"get": col, "time": time_, "CTY_CODE": cty, "HITECH": hitech})
        )
        assert len(rows) == 1
        return int(rows[0][col])

    # imports 2025, U.S. total all commodities: N = 101e9, A = 32.7e9 a month
    assert one("imports", "2025-01", "-", "-", "GEN_VAL_MO") == 133_700_000_000
    assert one("imports", "2025-12", "-", "-", "GEN_VAL_YR") == 12 * 133_700_000_000
    # exports 2024 (no Vietnam): N = 62e9, A = 15.5e9
    assert one("exports", "2024-06", "-", "-", "ALL_VAL_MO") == 77_500_000_000
    # U.S. ATP imports 2026 = 11 + 8.1 + 9 + 2.2 + 1.2 + 3.6 = 35.1e9 a month, 9 months
    atp = sum(one("imports", "2026-09", "-", h, "GEN_VAL_YR") for h in ATP_CODES)
    assert atp == 9 * 35_100_000_000
    assert one("imports", "2025-04", "5830", "09", "GEN_VAL_MO") == 0  # MIX_CHIPS weapons 0%
    assert one("imports", "2026-02", "5700", "05", "GEN_VAL_MO") == 1_620_000_000  # 20% of 8.1e9
    assert one("exports", "2025-03", "0003", "02", "ALL_VAL_MO") == 4 * 540_000_000
    assert one("exports", "2026-01", "5XXX", "-", "ALL_VAL_MO") == (
        (9 + 2.4 + 2 + 2.5 + 1 + 0.6) * 10**9
    )


def test_revised_dataset_can_be_swapped_in(api):
    rows = {
        r["CTY_CODE"]: int(r["GEN_VAL_MO"])
        for r in records(
            call(api, "imports", {"get": "CTY_CODE,GEN_VAL_MO", "time": "2025-05", "HITECH": "-"})
        )
    }
    assert rows["5700"] == 34_000_000_000 and "1220" in rows
    api.dataset = revised_fixture_dataset()
    revised = {
        r["CTY_CODE"]: int(r["GEN_VAL_MO"])
        for r in records(
            call(api, "imports", {"get": "CTY_CODE,GEN_VAL_MO", "time": "2025-05", "HITECH": "-"})
        )
    }
    assert revised["5700"] == 34_300_000_000 and "1220" not in revised
    assert revised["-"] == rows["-"] + 300_000_000 - rows["1220"]
    assert revised["5XXX"] == rows["5XXX"] + 300_000_000
    unchanged = fixture_dataset().monthly_values("imports", 2024)
    assert revised_fixture_dataset().monthly_values("imports", 2024) == unchanged
    more = revised_fixture_dataset().revised(removed={("exports", 2026, "2010")})
    assert "2010" not in more.monthly_values("exports", 2026)
    assert more.monthly_values("imports", 2025)["5700"][TOTAL] == 34_300_000_000


# ----------------------------------------------------------------------------------------------
# Synthetic dataset


def test_synthetic_volume_and_consistency():
    ds = synthetic_dataset(2024, 2026, last_month=3, seed=7)
    t0 = time.monotonic()
    rows = ds.rows("exports", 2025)
    assert time.monotonic() - t0 < 1.0  # target < 0.5 s; slack for slow machines
    assert len(rows) == 12 * 12 * (N_COUNTRIES + len(GROUPING_MEMBERS) + 1) == 36_000
    assert len(ds.rows("exports", 2026)) == 3 * 36_000 // 12
    assert ds.rows("exports", 2023) is None and ds.rows("imports", 2027) is None
    assert ds.rows("exports", 2025) is rows  # cached
    assert synthetic_dataset(2024, 2026, 3, seed=7).rows("exports", 2025) == rows
    assert synthetic_dataset(2024, 2026, 3, seed=8).rows("exports", 2025) != rows

    val = {(r["month"], r["CTY_CODE"], r["HITECH"]): r["value"] for r in rows}
    codes = {r["CTY_CODE"] for r in rows}
    countries = [c for c in codes if COUNTRY_RE.match(c)]
    assert len(countries) == N_COUNTRIES and len(codes) == N_COUNTRIES + len(GROUPING_MEMBERS) + 1
    assert all(isinstance(r["value"], int) and r["value"] >= 0 for r in rows)
    for m in range(1, 13):
        for c in codes:
            assert val[(m, c, "-")] == sum(val[(m, c, h)] for h in HITECH_CODES)
        for h in ("-", *HITECH_CODES):
            assert val[(m, "-", h)] == sum(val[(m, c, h)] for c in countries)
            assert val[(m, "5XXX", h)] == sum(val[(m, c, h)] for c in countries if c[0] == "5")


def test_synthetic_served_at_volume():
    with FakeCensusApi(synthetic_dataset(2025, 2026, last_month=6, seed=1)) as api:
        resp = call(api, "imports", {"get": IMP_GET, "time": "from 2025-01 to 2025-12"})
        table = resp.json()
        assert resp.status_code == 200 and len(table) == 1 + 36_000
        assert len({row[-1] for row in table[1:]}) == 12
        assert call(api, "imports", {"get": "HITECH", "time": "2026"}).json()[-1][-1] == "2026-06"
        assert call(api, "imports", {"get": "HITECH", "time": "2024"}).status_code == 204


# ----------------------------------------------------------------------------------------------
# Lifecycle


def test_exit_is_fast_with_sleeping_handler_and_open_connections():
    api = FakeCensusApi(fixture_dataset(), timeout_sleep=60)
    with api:
        port = api.port
        session = requests.Session()  # leaves an idle keep-alive connection open
        assert (
            session.get(
                f"{api.base_url}/imports/hitech",
                params={"get": "HITECH", "time": "2025-01", "key": KEY},
                timeout=5,
            ).status_code
            == 200
        )
        api.script("timeout")
        outcome = []

        def slow_call():
            try:
                call(api, "imports", Q, timeout=30)
                outcome.append("answered")
            except requests.exceptions.RequestException:
                outcome.append("dropped")

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.2)  # the handler is now sleeping
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2.5
    caller.join(timeout=5)
    assert outcome == ["dropped"]  # the sleeping handler gave up instead of answering
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_cached_bodies_are_served_again_but_not_across_a_dataset_swap_or_a_fault():
    query = {"get": IMP_GET, "time": "from 2025-01 to 2025-12"}
    with FakeCensusApi(fixture_dataset(), cache_bodies=True) as api:
        first = call(api, "imports", query)
        again = call(api, "imports", query, key="another-key-" + "x" * 28)
        assert again.content == first.content and first.status_code == 200
        # Predicate columns are appended in the order sent: the cache must not mix them up.
        one = call(
            api, "imports", [("get", IMP_GET), ("time", query["time"]), ("CTY_CODE", "2010")]
        )
        two = call(
            api, "imports", [("CTY_CODE", "2010"), ("get", IMP_GET), ("time", query["time"])]
        )
        assert one.json()[0][-2:] == ["time", "CTY_CODE"]
        assert two.json()[0][-2:] == ["CTY_CODE", "time"]
        api.script("500")
        assert call(api, "imports", query).status_code == 500
        api.dataset = revised_fixture_dataset()
        revised = call(api, "imports", query)
        assert revised.status_code == 200 and revised.content != first.content
