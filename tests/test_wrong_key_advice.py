"""`atp run` with a key the API refuses: every year fails, and what to do is said once."""

from __future__ import annotations

from fake_census import FakeCensusApi, fixture_dataset
from orchestration.cli import main
from tests.conftest import SENTINEL_KEY, at_api, point_cli_at


def test_a_refused_key_gives_its_advice_once(env, monkeypatch, capfd):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral Dagster instance
    with FakeCensusApi(fixture_dataset(), valid_keys={"the-real-key"}) as api:
        point_cli_at(monkeypatch, at_api(env, api))  # 2024..2026
        assert main(["run"]) == 1
        assert len(api.data_requests) == 1  # the run stopped at the first answer
    out, err = capfd.readouterr()
    printed = out + err
    for advice in ("Check CENSUS_API_KEY", "key_signup.html", "make demo"):
        assert printed.count(advice) == 1, printed
    lines = printed.splitlines()
    assert (
        "    imports 2025, 2026: not attempted: the error of imports 2024 would repeat for every year"
        in lines
    )
    assert (
        "    exports 2024: not requested: the Census API refused the key for imports 2024 (HTTP 302 "
        "with X-DataWebAPI-KeyError: invalid key), so this run stopped asking (what to do: see "
        "the error of imports 2024)"
    ) in lines
    assert SENTINEL_KEY not in printed
