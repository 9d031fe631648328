"""The ATP code lists: parsing the fixed-width text, fetching through the run's client, landing."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from fake_census.code_lists import FIXTURE_CODES, LISTS_PATH, list_text
from ingest.atp_code_lists import (
    AtpCode,
    AtpCodeListError,
    fetch_code_list,
    land_code_list,
    landed_code_list,
    list_url,
    parse_code_list,
)
from ingest.errors import AtpError, CensusUnavailableError
from ingest.landing import landed_files
from ingest.settings import DEFAULT_ATP_CODES_BASE_URL, Settings
from tests.conftest import SENTINEL_KEY

SOURCE = "https://www.census.gov/foreign-trade/reference/codes/atp/impatp24.txt"
REAL_SHAPED = (
    b"04 8471500150 PROCESSING UNITS FOR AUTOMATIC DATA PROCESSING MACHINES, NESOI\r\n"
    b"04 8517130000 SMARTPHONES\r\n"
    b"05 8542310000 ELECTRONIC INTEGRATED CIRCUITS: PROCESSORS AND CONTROLLERS  \r\n"
    b"08 8802400050 PASSENGER AIRPLANES, UNLADEN WEIGHT OVER 15,000 KG, NEW\r\n"
    b"10 8401100000\r\n"
    b"\r\n"
)


@pytest.fixture
def settings(env, fake_api) -> Settings:
    return replace(env, atp_codes_base_url=fake_api.atp_codes_base_url)


def list_requests(fake_api):
    return [r for r in fake_api.requests if r.path.startswith(LISTS_PATH + "/")]


# -- the format ----------------------------------------------------------------------------------


def test_a_real_shaped_list_parses_to_typed_rows():
    codes = parse_code_list(REAL_SHAPED, SOURCE)
    assert codes == (
        AtpCode(
            "04", "8471500150", "PROCESSING UNITS FOR AUTOMATIC DATA PROCESSING MACHINES, NESOI"
        ),
        AtpCode("04", "8517130000", "SMARTPHONES"),
        AtpCode("05", "8542310000", "ELECTRONIC INTEGRATED CIRCUITS: PROCESSORS AND CONTROLLERS"),
        AtpCode("08", "8802400050", "PASSENGER AIRPLANES, UNLADEN WEIGHT OVER 15,000 KG, NEW"),
        AtpCode("10", "8401100000", ""),  # a code without a description is still a code
    )


def test_the_fakes_list_is_its_fixture_and_other_encodings_read():
    codes = parse_code_list(list_text(FIXTURE_CODES).encode(), SOURCE)
    assert [(c.group, c.code, c.description) for c in codes] == list(FIXTURE_CODES)
    assert {c.group for c in codes} == {f"{n:02d}" for n in range(1, 11)}
    bom = parse_code_list(b"\xef\xbb\xbf02 9018190000 INSTRUMENTS\n", SOURCE)
    cp1252 = parse_code_list(b"02 9018190000 INSTRUMENTS \x96 NESOI\n", SOURCE)
    assert bom[0].group == "02" and cp1252[0].description == "INSTRUMENTS \u2013 NESOI"


def test_list_url_names_the_file_by_flow_and_two_digit_year():
    assert list_url(DEFAULT_ATP_CODES_BASE_URL, "imports", 2024) == (
        "https://www.census.gov/foreign-trade/reference/codes/atp/impatp24.txt"
    )
    assert list_url("http://mirror/atp/", "exports", 2009) == "http://mirror/atp/expatp09.txt"
    with pytest.raises(ValueError):
        list_url(DEFAULT_ATP_CODES_BASE_URL, "hitech", 2024)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            b"<!DOCTYPE html>\n<html><head><title>Page Not Found | U.S. Census Bureau</title>"
            b"</head><body>\n<p>gone</p></body></html>",
            "(line 1 is HTML): page titled 'Page Not Found | U.S. Census Bureau'",
        ),
        (b"", "(the body is empty)"),
        (b" \r\n\n", "(the body is empty)"),
        (
            b"GROUP CODE       DESCRIPTION\n04 8517130000 SMARTPHONES\n",
            "(line 1 is not 'GG CCCCCCCCCC description'): 'GROUP CODE       DESCRIPTION'",
        ),
        (b"04 8517130000 SMARTPHONES\n04 851713000 SHORT\n", "(line 2 is not 'GG CCCCCCCCCC"),
        (b"04\t8517130000\tSMARTPHONES\n", "(line 1 is not 'GG CCCCCCCCCC description')"),
        (b"00 8517130000 SMARTPHONES\n", "(line 1: ATP group 00 is not 01 to 10)"),
        (b"11 8517130000 SMARTPHONES\n", "(line 1: ATP group 11 is not 01 to 10)"),
        (
            b"04 8517130000 SMARTPHONES\n\n05 8517130000 SMARTPHONES\n",
            "(line 3 repeats code 8517130000 of line 1)",
        ),
    ],
    ids=[
        "html",
        "empty",
        "blank",
        "header",
        "short-code",
        "tabs",
        "group-00",
        "group-11",
        "repeat",
    ],
)
def test_anything_else_is_refused_in_one_line_naming_the_file(body, problem):
    with pytest.raises(AtpCodeListError) as caught:
        parse_code_list(body, SOURCE)
    message = str(caught.value)
    assert isinstance(caught.value, AtpError)
    assert message.startswith(f"{SOURCE} is not an ATP code list {problem}")
    assert "\n" not in message and "\r" not in message


def test_the_base_url_is_a_setting_with_census_gov_as_default():
    assert Settings.from_env({}).atp_codes_base_url == DEFAULT_ATP_CODES_BASE_URL
    mirror = Settings.from_env({"CENSUS_ATP_CODES_BASE_URL": "http://mirror.example/atp/"})
    assert mirror.atp_codes_base_url == "http://mirror.example/atp"


# -- fetching ------------------------------------------------------------------------------------


def test_a_list_is_fetched_from_its_host_without_the_key(settings, client, fake_api):
    census, _ = client
    fetched = fetch_code_list(settings.atp_codes_base_url, "exports", 2025, census)
    assert fetched.url == f"{fake_api.atp_codes_base_url}/expatp25.txt"
    assert (fetched.flow, fetched.year, fetched.attempts) == ("exports", 2025, 1)
    assert fetched.codes[8] == AtpCode(
        "04", "8471500150", "PROCESSING UNITS FOR AUTOMATIC DATA PROCESSING MACHINES, NESOI"
    )
    (request,) = list_requests(fake_api)
    assert request.query == [] and SENTINEL_KEY not in request.path


def test_a_missing_list_is_none(settings, client, fake_api):
    census, _ = client
    fake_api.code_lists.set_fault("exports", 2024, "404")
    assert fetch_code_list(settings.atp_codes_base_url, "exports", 2024, census) is None
    assert (
        fetch_code_list(settings.atp_codes_base_url, "imports", 2024, census) is not None
    )  # the other carries on
    assert not census.budget.stopped


@pytest.mark.parametrize(
    ("fault", "problem"),
    [("html", "(line 1 is HTML): page titled 'Page Not Found"), ("empty", "(the body is empty)")],
)
def test_a_page_that_is_not_a_list_is_refused_naming_the_url(
    settings, client, fake_api, fault, problem
):
    census, _ = client
    fake_api.code_lists.set_fault("exports", 2024, fault)
    with pytest.raises(AtpCodeListError) as caught:
        fetch_code_list(settings.atp_codes_base_url, "exports", 2024, census)
    url = f"{fake_api.atp_codes_base_url}/expatp24.txt"
    assert str(caught.value).startswith(f"{url} is not an ATP code list {problem}")


def test_a_server_error_is_retried_by_the_runs_client(settings, client, fake_api):
    census, sleeps = client
    fake_api.code_lists.set_fault("imports", 2026, "503", times=2)
    fetched = fetch_code_list(settings.atp_codes_base_url, "imports", 2026, census)
    assert fetched.attempts == 3 and len(sleeps) == 2
    fake_api.code_lists.set_fault("imports", 2025, "503")  # for ever
    with pytest.raises(CensusUnavailableError, match=r"ATP code list imports 2025: .*HTTP 503"):
        fetch_code_list(settings.atp_codes_base_url, "imports", 2025, census)


# -- landing -------------------------------------------------------------------------------------


def test_an_unchanged_list_lands_once_and_a_changed_one_is_a_new_vintage(
    settings, client, fake_api
):
    census, _ = client
    landing = settings.landing_dir

    def fetch_and_land():
        return land_code_list(
            landing, fetch_code_list(settings.atp_codes_base_url, "imports", 2024, census)
        )

    first, again = fetch_and_land(), fetch_and_land()
    folder = landing / "atp_codes" / "imports" / "2024"
    assert first.path.parent == folder and again.path == first.path
    assert len(list(folder.glob("*.txt"))) == 1 and len(list(folder.glob("*.manifest.json"))) == 2
    manifest = first.manifest
    assert manifest["request"] == f"{fake_api.atp_codes_base_url}/impatp24.txt"
    assert manifest["rows"] == len(FIXTURE_CODES) and manifest["codes_per_group"]["04"] == 4
    assert first.read_checked() == list_text(FIXTURE_CODES).encode()

    # The same codes in another order: the same content, no new file.
    fake_api.code_lists.set_list("imports", 2024, reversed(FIXTURE_CODES))
    assert fetch_and_land().path == first.path

    # A changed code (an HS revision): a new vintage, the newest one read back.
    changed = [*FIXTURE_CODES[:-1], ("10", "8401400090", "PARTS OF NUCLEAR REACTORS, OTHER")]
    fake_api.code_lists.set_list("imports", 2024, changed)
    revised = fetch_and_land()
    assert revised.path != first.path and len(list(folder.glob("*.txt"))) == 2
    assert len(landed_files(landing / "atp_codes", "imports", 2024)) == 4
    assert landed_code_list(landing, "imports", 2024)[-1].code == "8401400090"
    assert landed_code_list(landing, "exports", 2024) is None


def test_the_key_is_never_sent_to_the_list_host_nor_landed(settings, client, fake_api):
    census, _ = client
    census.fetch_year("imports", 2024)  # the same client sends its key to the API
    for flow in ("imports", "exports"):
        land_code_list(
            settings.landing_dir, fetch_code_list(settings.atp_codes_base_url, flow, 2024, census)
        )
    requests = list_requests(fake_api)
    assert len(requests) == 2
    for request in requests:
        assert request.param("key") is None
        assert SENTINEL_KEY not in request.path + json.dumps(request.query)
    landed = list((settings.landing_dir / "atp_codes").rglob("*"))
    assert len([p for p in landed if p.is_file()]) == 4
    for path in landed:
        assert path.is_dir() or SENTINEL_KEY.encode() not in path.read_bytes()
