"""`atp check-api`: the first command a user with a key runs, against the fake API."""

from __future__ import annotations

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.cli import main


def _check(monkeypatch, capsys, api) -> tuple[int, str, str]:
    monkeypatch.setenv("CENSUS_API_BASE_URL", api.base_url)
    monkeypatch.setenv("CENSUS_ATP_CODES_BASE_URL", api.atp_codes_base_url)
    code = main(["check-api"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_check_is_listed_and_a_failure_exits_1(monkeypatch, capsys):
    with FakeCensusApi(fixture_dataset()) as api:
        code, out, err = _check(monkeypatch, capsys, api)
        # four variables.json (hitech, hs), two code lists, one small request per flow
        assert len(api.requests) == 8
        base_url = api.base_url
        lists = api.atp_codes_base_url
    lines = out.splitlines()
    assert lines[0] == f"Census API at {base_url}"
    rows = {line.split("  ")[1].strip(): line for line in lines[1:]}
    assert "ok" in rows["imports/hitech variables"]
    assert rows["exports/hs variables"].split("  ")[-1] == (
        "exports/hs lists CTY_CODE, CTY_NAME, E_COMMODITY, E_COMMODITY_SDESC, ALL_VAL_MO, time, "
        "COMM_LVL, SUMMARY_LVL"
    )
    assert rows["ATP code list imports 2026"].split("  ")[-1] == (
        f"25 codes in 10 ATP groups at {lists}/impatp26.txt"
    )
    assert "ok" in rows["exports 2026-09 reconciliation"]
    # The fixture has 6 countries: the live API has over 200.
    assert "FAIL" in rows["imports 2026-09 countries"]
    assert code == 1
    assert err.startswith("atp check-api: imports 2026-09: only 6 countries")
    assert "SENTINEL" not in out + err


def test_a_variable_the_api_no_longer_lists_is_named(monkeypatch, capsys):
    with FakeCensusApi(fixture_dataset(), hidden_variables={"GEN_VAL_MO"}) as api:
        code, out, _ = _check(monkeypatch, capsys, api)
    assert code == 1
    assert "imports/hitech no longer lists GEN_VAL_MO" in out


def test_a_missing_code_list_is_named_with_what_it_means(monkeypatch, capsys):
    with FakeCensusApi(fixture_dataset()) as api:
        api.code_lists.set_fault("exports", 2026, "404")
        code, out, _ = _check(monkeypatch, capsys, api)
        url = f"{api.atp_codes_base_url}/expatp26.txt"
    assert code == 1
    row = next(line for line in out.splitlines() if "ATP code list exports 2026" in line)
    assert "FAIL" in row
    assert row.endswith(
        f"not found: {url} answered HTTP 404: exports 2026 product detail would be skipped"
    )


def test_without_product_detail_the_lists_are_not_asked(monkeypatch, capsys):
    monkeypatch.setenv("ATP_PRODUCTS", "0")
    with FakeCensusApi(fixture_dataset()) as api:
        _check(monkeypatch, capsys, api)
        assert not [r for r in api.requests if "/hs" in r.path or r.path.endswith(".txt")]
