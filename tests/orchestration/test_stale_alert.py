"""Data that stopped being current: the hourly sensor alerts once per stall (no check of the API
for two refresh intervals, or a published copy left behind as long) and closes the incident
when the data is current again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from ingest.freshness import (
    Freshness,
    read_freshness,
    record_build_started,
    record_check,
    record_published,
    stale_after,
    stale_reason,
)
from orchestration.alerting import alert_on_stale_data
from tests.test_run_alerts import Receiver, hooked  # noqa: F401 - the webhook fixture

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_allowance_is_two_refresh_intervals_and_an_hour():
    assert stale_after("0 6 * * *") == timedelta(hours=49)
    assert stale_after("0 6 * * 1-5") == 2 * timedelta(days=3) + timedelta(hours=1)  # a weekend


def test_stale_reasons():
    allowed = timedelta(hours=49)
    assert stale_reason(Freshness(), NOW, allowed) is None  # nothing checked yet
    assert stale_reason(Freshness(last_checked=NOW), NOW, allowed) is None  # nothing behind
    fresh = Freshness(last_checked=NOW - 2 * DAY, last_changed=NOW - 9 * DAY,
                      last_published=NOW - 9 * DAY)  # fmt: skip
    assert stale_reason(fresh, NOW, allowed) is None  # 48 hours: one missed night
    late = stale_reason(Freshness(last_checked=NOW - 3 * DAY), NOW, allowed)
    assert late.startswith("no run has checked the Census API since 2026-12-02 12:00 UTC (72 hours")
    behind = Freshness(last_checked=NOW, last_changed=NOW - 3 * DAY, last_published=NOW - 9 * DAY)
    assert stale_reason(behind, NOW, allowed).startswith(
        "the published copy has been behind for 72 hours: the raw data changed (2026-12-02 12:00"
    )
    # A build that failed an hour ago is the run's own alert, not yet a stall.
    just_failed = Freshness(
        last_checked=NOW, last_build_started=NOW - timedelta(hours=1), last_published=NOW - DAY
    )
    assert stale_reason(just_failed, NOW, allowed) is None


def _tick(settings) -> str:
    context = dg.build_sensor_context(resources={"settings": settings})
    return alert_on_stale_data(context).skip_message


def test_the_sensor_alerts_once_per_stall_and_closes_it(hooked):  # noqa: F811
    settings, texts = hooked
    now = datetime.now(UTC)
    assert _tick(settings) == "no run has checked the Census API yet: nothing to be stale"
    record_check(settings.published, now - 4 * DAY, changed=True, newest_month="2026-09")
    record_build_started(settings.published, now - 4 * DAY)
    record_published(settings.published, now - 4 * DAY)
    for _ in range(3):  # hourly ticks: one message
        assert _tick(settings).startswith("no run has checked the Census API since")
    (alert,) = texts
    assert alert.startswith("atp-warehouse: the data stopped being current")
    # A run checks again: current, the incident closed; a later stall alerts again.
    record_check(settings.published, now, changed=False, newest_month="2026-09")
    assert _tick(settings) == "the data is current"
    assert texts == [alert]
    record_check(settings.published, now - 3 * DAY, changed=False, newest_month="2026-09")
    _tick(settings)
    assert len(texts) == 2
    assert read_freshness(settings.published).last_published == now - 4 * DAY
