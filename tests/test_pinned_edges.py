"""Edges that a plausible rewrite could move without another test noticing: a process we may not
signal, a pid reused by a later process, a key cut by the error-text limit, the run-wide retry
budget, the reconciliation's dollar floor, five-character partner codes, a quiet refresh in
`atp status`, and the brief's and the formats' boundaries."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import dagster as dg
import requests

import ingest.client
from analyst.brief import Brief, _share_sentence, headline
from analyst.formats import BILLIONS, MILLIONS, money_unit
from analyst.queries import Partner
from analyst.status import status
from ingest.client import _describe
from ingest.freshness import freshness_path, read_freshness
from ingest.redaction import register_secret
from orchestration import run_health
from orchestration.runner import run_pipeline
from tests.conftest import FAST_POLICY, SENTINEL_KEY
from tests.dbt.test_live_tolerance import NAMES, clean_cells, dbt_build, query, tolerable_cells

# -- run_health.process_alive ------------------------------------------------------------------


def test_a_process_we_may_not_signal_is_alive(monkeypatch):
    def refused(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(run_health.os, "kill", refused)
    assert run_health.process_alive(1) is True


@contextmanager
def sleeper():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def test_a_process_started_after_the_run_is_not_the_run():
    with sleeper() as child:
        # The run recorded this pid two minutes ago; the process that has it now started later.
        assert run_health.process_alive(child.pid, started_by=time.time() - 120) is False
        assert run_health.process_alive(child.pid, started_by=time.time()) is True
        assert run_health.process_alive(child.pid) is True


# -- an error body is redacted before it is cut -------------------------------------------------


def text_response(body: str, status_code: int = 400) -> requests.Response:
    response = requests.Response()
    response.status_code = status_code
    response._content = body.encode()
    response.headers["Content-Type"] = "text/plain;charset=utf-8"
    response.encoding = "utf-8"
    return response


def test_a_key_straddling_the_300_character_cut_leaks_no_prefix():
    register_secret(SENTINEL_KEY)
    body = "x" * 289 + " " + SENTINEL_KEY + " rest of the error"
    assert body.index(SENTINEL_KEY) == 290
    described = _describe(text_response(body))
    assert len(described) <= 300
    assert SENTINEL_KEY[:6] not in described
    assert described[289:].startswith(" *** rest")  # masked whole, then cut


# -- the retry budget is the run's, across both flows -------------------------------------------


def test_a_run_against_a_down_api_makes_one_partitions_retries_and_nothing_for_exports(
    env, fake_api, monkeypatch
):
    # The run's clients take the default policy: make it the tests' fast one.
    monkeypatch.setattr(ingest.client, "RetryPolicy", lambda: FAST_POLICY)
    fake_api.script(*["503"] * 40)
    out: list[str] = []
    code = run_pipeline(
        env, "api", years=[2025, 2026], instance=dg.DagsterInstance.ephemeral(), out=out.append
    )
    assert code == 1, out
    requested = [(r.path.split("/")[-2], r.param("time")) for r in fake_api.data_requests]
    assert requested == [("imports", "from 2025-01 to 2025-12")] * FAST_POLICY.max_attempts


# -- the reconciliation's $1,000 floor and five-character partner codes -------------------------


def test_a_1500_dollar_gap_over_a_tenth_of_a_percent_fails_the_build(tmp_path):
    cells = clean_cells()
    # Puerto Rico's January: $100,000 in all, so $1,500 is 1.5 %; over the $1,000 floor too
    cells[("imports", "9030", "TOTAL", 2025, 1)] += 1_500
    built = dbt_build(tmp_path, cells)
    assert built["code"] == 1
    assert built["tests"]["hitech_total_reconciles_stg_census__hitech_imports_"][:2] == (
        "fail",
        1,
    )


def test_a_five_character_partner_code_is_other(tmp_path, monkeypatch):
    cells = tolerable_cells()
    for (flow, partner, code, year, month), value in list(cells.items()):
        if partner == "2010":  # a code of a country's shape with one digit more
            cells[(flow, "20100", code, year, month)] = value
    monkeypatch.setitem(NAMES, "20100", "MEXICO TOO")
    built = dbt_build(tmp_path, cells)
    assert built["code"] == 0, built["stdout"][-4000:]
    kinds = query(
        built["warehouse"],
        "SELECT partner_kind FROM marts.dim_partner WHERE partner_code = '20100'",
    )
    assert kinds == [{"partner_kind": "other"}]


# -- atp status after a refresh that found nothing new ------------------------------------------


def test_status_after_a_quiet_refresh_shows_when_checked_and_when_changed_apart(env, fake_api):
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(env, "api", years=[2026], instance=instance, out=lambda _: None) == 0
    # The first run as if it had been two hours ago (status shows minutes).
    first = read_freshness(env.published)
    earlier = {
        name: getattr(first, name) - timedelta(hours=2)
        for name in ("last_checked", "last_changed", "last_published")
    }
    freshness_path(env.published).write_text(
        json.dumps(
            {
                **{k: v.isoformat() for k, v in earlier.items()},
                "newest_month": first.newest_month,
                "last_build_started": earlier["last_checked"].isoformat(),
            }
        )
    )
    code = run_pipeline(
        env, "api", years=[2026], instance=instance, out=lambda _: None, only_if_changed=True
    )
    assert code == 0
    after = read_freshness(env.published)
    lines = dict(line.split(": ", 1) for line in status(env).text.splitlines()[:-1])
    assert lines["Last checked"].strip() == f"{after.last_checked:%Y-%m-%d %H:%M} UTC"
    assert lines["Last changed"].strip() == f"{earlier['last_changed']:%Y-%m-%d %H:%M} UTC"
    assert lines["Last checked"] != lines["Last changed"]


# -- the brief's wording and the money unit -----------------------------------------------------

B = 1_000_000_000


def country(code: str, name: str, rank: int, usd: int) -> dict[str, Any]:
    return {
        "partner_code": code,
        "partner_name": name,
        "atp_imports_rank": rank,
        "atp_imports_usd": usd,
        "atp_imports_yoy_pct": 10.0,
    }


def brief_of(row: dict[str, Any], ranking: list[dict[str, Any]], shift=None) -> Brief:
    partner = Partner(row["partner_code"], row["partner_name"], "country", "Asia", 2024, 2025)
    full = {
        **row,
        "atp_imports_change_usd": B,
        "atp_imports_share_pct": 10.0,
        "atp_exports_usd": B,
        "atp_exports_change_usd": 0,
        "atp_exports_yoy_pct": 0.0,
        "atp_balance_usd": 0,
    }
    us = {"atp_imports_usd": 100 * B, "atp_exports_usd": 50 * B, "atp_balance_usd": -50 * B}
    return Brief(partner, 2025, "imports", 12, full, ranking, us, [], shift)


def test_second_only_to_the_leader_when_tied_for_second():
    leader = country("2010", "MEXICO", 1, 30 * B)
    tied = country("1220", "CANADA", 2, 20 * B)  # sorts before Taiwan by code
    taiwan = country("5830", "TAIWAN", 2, 20 * B)
    text = headline(brief_of(taiwan, [leader, tied, taiwan]))
    assert text.endswith(", second only to Mexico ($30.00 billion, +10.0%).")


def test_a_share_shift_of_three_hundredths_of_a_point_reads_unchanged():
    row = country("5830", "TAIWAN", 1, 20 * B)
    shift = {
        "atp_imports_share_pct": 20.03,
        "atp_imports_prior_share_pct": 20.0,
        "atp_imports_share_shift_pp": 0.03,
    }
    share = _share_sentence(brief_of(row, [row], shift), "2025", "2024")
    assert (
        share == "Taiwan's share of the U.S. market was unchanged at 20.0% in 2025 (20.0% in 2024)."
    )


def test_one_billion_is_shown_in_billions():
    assert money_unit([1e9]) is BILLIONS
    assert money_unit([-1e9, 5.0]) is BILLIONS
    assert money_unit([999_999_999]) is MILLIONS
