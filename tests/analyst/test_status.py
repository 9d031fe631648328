"""`atp status`: the published copy's freshness on one screen, exit 1 when behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from analyst.status import status
from ingest.freshness import read_freshness
from orchestration.cli import main

NEW_YORK = ZoneInfo("America/New_York")


def test_status_on_time(published):
    fresh = read_freshness(published.published)
    found = status(published, now=datetime(2026, 11, 27, 12, 0, tzinfo=NEW_YORK))
    lines = dict(line.split(": ", 1) for line in found.text.splitlines()[:-1])
    assert not found.behind
    assert lines["Newest month held"].strip() == "2026-09"
    assert lines["Last checked"].strip() == f"{fresh.last_checked:%Y-%m-%d %H:%M} UTC"
    assert lines["Last changed"].strip() == f"{fresh.last_changed:%Y-%m-%d %H:%M} UTC"
    assert lines["Next refresh"].strip() == (
        "2026-11-28 06:00 America/New_York (ATP_REFRESH_CRON '0 6 * * *')"
    )
    assert lines["Release"].strip().startswith("up to date: holds 2026-09")
    assert found.text.splitlines()[-1].startswith("Source: API at 127.0.0.1")


def test_status_behind_the_calendar_says_so_and_exits_1(published, capsys, monkeypatch):
    late = datetime(2027, 1, 15, 12, 0, tzinfo=NEW_YORK)
    found = status(replace(published, refresh_cron="30 7 * * 1-5"), now=late)
    assert found.behind
    assert "Census should have published 2026-11" in found.text
    assert "2027-01-18 07:30 America/New_York" in found.text  # the next weekday morning
    # The command, on the pinned day (2026-11-30): the fixture's September is the newest due.
    assert main(["status"]) == 0
    assert "Newest month held: 2026-09" in capsys.readouterr().out
    # From 2026-12-10 October is due: the command says so and exits 1.
    monkeypatch.setenv("ATP_TODAY", "2026-12-10")
    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert "Newest month held: 2026-09" in out
    assert "Census should have published 2026-10" in out


def test_a_pinned_day_that_is_not_a_date_is_one_line(published, capsys, monkeypatch):
    monkeypatch.setenv("ATP_TODAY", "30/11/2026")
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        "atp status: ATP_TODAY='30/11/2026' is not a date: set it as YYYY-MM-DD "
        "(e.g. 2026-11-30), or unset it to use today's date.\n"
    )


def test_no_check_for_two_refresh_intervals_is_stale_and_exits_1(published):
    checked = read_freshness(published.published).last_checked
    # 48 hours later one nightly refresh was missed: not yet news.
    assert "Stale:" not in status(published, now=checked + timedelta(hours=48)).text
    found = status(published, now=checked + timedelta(hours=50))
    assert found.behind
    (stale,) = [line for line in found.text.splitlines() if line.startswith("Stale:")]
    assert f"since {checked:%Y-%m-%d %H:%M} UTC (50 hours; allowed 49 hours)" in stale
