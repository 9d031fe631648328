"""How fresh the data is, apart from when it was published: when the pipeline last checked the
API, when the data last changed, and the newest month held. Recorded beside the published copy
(`<ATP_PUBLISHED stem>.freshness.json`) by every run that checks, including the runs that find
nothing new and so leave the published copy alone.

It also says whether the published copy is behind the working warehouse: raw data that changed,
or a dbt build that started, after the last publication (a build or publish that failed). A
refresh that finds nothing new still builds and publishes then, so a quiet night never hides a
failed build."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.errors import WarehouseError
from ingest.files import write_atomic


@dataclass(frozen=True)
class Freshness:
    last_checked: datetime | None = None
    last_changed: datetime | None = None
    newest_month: str | None = None  # 'YYYY-MM', present in both flows
    last_build_started: datetime | None = None
    last_published: datetime | None = None

    @property
    def unpublished(self) -> str | None:
        """Why the published copy is behind the working warehouse, or None when it is not."""
        published = self.last_published
        if self.last_changed and (published is None or self.last_changed > published):
            when = f"{self.last_changed:%Y-%m-%d %H:%M} UTC"
            return f"the raw data changed ({when}) after the last publication"
        if self.last_build_started and (published is None or self.last_build_started > published):
            when = f"{self.last_build_started:%Y-%m-%d %H:%M} UTC"
            return f"the dbt build of {when} was not published (it or the publication failed)"
        return None


def stale_reason(freshness: Freshness, now: datetime, allowed: timedelta) -> str | None:
    """Why the data stopped being current, or None: no successful check of the API for longer
    than `allowed` (the schedule is off, or every run fails), or the published copy behind the
    working warehouse for as long. Before the first check there is nothing to be stale."""
    checked = freshness.last_checked
    if checked is None:
        return None
    if now - checked > allowed:
        return (
            f"no run has checked the Census API since {checked:%Y-%m-%d %H:%M} UTC "
            f"({_hours(now - checked)}; allowed {_hours(allowed)}): is the refresh schedule on, "
            "and the daemon running? `atp status` and the Dagster UI's Runs say more."
        )
    behind = freshness.unpublished
    if behind is None:
        return None
    # Behind means one of these is set: the change or build the copy has not caught up with.
    since = max(t for t in (freshness.last_changed, freshness.last_build_started) if t)
    if now - since > allowed:
        return (
            f"the published copy has been behind for {_hours(now - since)}: {behind}. "
            "`atp refresh` builds and publishes it; the failed run's alert says why it stopped."
        )
    return None


def stale_after(cron: str) -> timedelta:
    """How long the data may go unchecked: two of the refresh schedule's longest gaps (one
    missed night is not yet news), plus an hour for a slow run."""
    from croniter import croniter  # here, not at import: `atp report` starts fast

    fires = croniter(cron, datetime(2026, 1, 1, tzinfo=UTC))
    times = [fires.get_next(datetime) for _ in range(15)]
    longest = max(b - a for a, b in zip(times, times[1:], strict=False))
    return 2 * longest + timedelta(hours=1)


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:.0f} hours"


def freshness_path(published: Path) -> Path:
    return published.with_name(f"{published.stem}.freshness.json")


def read_freshness(published: Path) -> Freshness:
    """What the last check recorded; empty when no run has checked yet."""
    path = freshness_path(published)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return Freshness()
    except (OSError, ValueError) as exc:
        raise WarehouseError(
            f"cannot read {path}: {exc}; remove it, the next run rewrites it."
        ) from None
    return Freshness(**{field: _value(field, data.get(field)) for field in _FIELDS})


def record_check(
    published: Path, checked_at: datetime, *, changed: bool, newest_month: str | None
) -> Freshness:
    """Record a successful check; `last_changed` moves only when the data changed."""
    before = read_freshness(published)
    return _write(
        published,
        replace(
            before,
            last_checked=checked_at,
            last_changed=checked_at
            if changed or before.last_changed is None
            else before.last_changed,
            newest_month=newest_month,
        ),
    )


def record_build_started(published: Path, started_at: datetime) -> Freshness:
    return _write(published, replace(read_freshness(published), last_build_started=started_at))


def record_published(published: Path, published_at: datetime) -> Freshness:
    return _write(published, replace(read_freshness(published), last_published=published_at))


def _write(published: Path, after: Freshness) -> Freshness:
    text = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(after).items()}
    write_atomic(freshness_path(published), json.dumps(text, indent=2) + "\n")
    return after


_FIELDS = [f.name for f in fields(Freshness)]


def _value(field: str, value):
    return value if field == "newest_month" else _time(value)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
