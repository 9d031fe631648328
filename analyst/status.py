"""`atp status`: how current the analysts' data is, on one screen: the newest month held, when the
data was last checked, last changed and published, the next scheduled refresh and the release
warning. Exit status 1 when the published copy is behind the newest month Census should have
released, behind the working warehouse (changes a failed build or publish left unpublished), or
stale (no run has checked the API for two refresh intervals)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from analyst.formats import source_line
from analyst.queries import open_published, publication
from ingest.freshness import read_freshness, stale_after, stale_reason
from ingest.releases import ReleaseStatus, newest_month_due
from ingest.settings import CENSUS_TIMEZONE, Settings, census_today


@dataclass(frozen=True)
class Status:
    text: str
    behind: bool


def status(settings: Settings, now: datetime | None = None) -> Status:
    today = census_today(now)  # ATP_TODAY pins it when `now` is not given
    now = now or datetime.now(ZoneInfo(CENSUS_TIMEZONE))
    with open_published(settings.published, required=()) as con:
        published = publication(con)
    fresh = read_freshness(settings.published)
    if fresh.last_published is None and published.get("published_at"):
        # A copy published before the freshness record kept publication times.
        fresh = replace(fresh, last_published=published["published_at"].replace(tzinfo=UTC))
    held = published.get("newest_month")
    release = ReleaseStatus(
        held,
        newest_month_due(today, settings.release_lag_days),
        settings.release_lag_days,
    )
    loaded = ""
    if fresh.newest_month and held and fresh.newest_month > held:
        loaded = f" ({fresh.newest_month} loaded, not yet published: see the last run)"
    next_run = croniter(settings.refresh_cron, now.astimezone(ZoneInfo(CENSUS_TIMEZONE)))
    rows = [
        ("Published copy", str(settings.published)),
        ("Newest month held", f"{held or 'none'}{loaded}"),
        ("Last checked", _when(fresh.last_checked, "never (no refresh has run)")),
        ("Last changed", _when(fresh.last_changed, "unknown")),
        ("Published", _when(published.get("published_at"), "unknown")),
        (
            "Next refresh",
            f"{next_run.get_next(datetime):%Y-%m-%d %H:%M} {CENSUS_TIMEZONE} "
            f"(ATP_REFRESH_CRON '{settings.refresh_cron}')",
        ),
        ("Release", release.describe()),
    ]
    if fresh.unpublished:
        rows.append(("Unpublished", f"{fresh.unpublished}; the next refresh builds and publishes"))
    # No check for two refresh intervals: the schedule is off or every run fails.
    stale = stale_reason(fresh, now.astimezone(UTC), stale_after(settings.refresh_cron))
    if stale and not fresh.unpublished:
        rows.append(("Stale", stale))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label + ':':<{width + 1}} {value}" for label, value in rows]
    lines.append(source_line(published))
    return Status("\n".join(lines), release.behind or bool(fresh.unpublished or stale))


def _when(value: datetime | None, missing: str) -> str:
    # Stored as UTC: naive in the published copy, aware in the freshness record.
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else missing
