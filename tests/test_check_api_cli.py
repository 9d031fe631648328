"""`atp check-api`: the first command a user with a key runs, against the fake API."""

from __future__ import annotations

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.cli import main


def _check(monkeypatch, capsys, api) -> tuple[int, str, str]:
    monkeypatch.setenv("CENSUS_API_BASE_URL", api.base_url)
    code = main(["check-api"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_check_is_listed_and_a_failure_exits_1(monkeypatch, capsys):
    with FakeCensusApi(fixture_dataset()) as api:
        code, out, err = _check(monkeypatch, capsys, api)
        assert len(api.requests) == 4  # two variables.json, one small request per flow
        base_url = api.base_url
    lines = out.splitlines()
    assert lines[0] == f"Census API at {base_url}"
    rows = {line.split("  ")[1].strip(): line for line in lines[1:]}
    assert "ok" in rows["imports/hitech variables"]
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
