"""How fresh the data is, apart from when it was published: when the pipeline last checked the
API, when the data last changed, and the newest month held. Recorded beside the published copy
(`<ATP_PUBLISHED stem>.freshness.json`) by every run that checks, including the runs that find
nothing new and so leave the published copy alone."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from ingest.errors import WarehouseError
from ingest.files import write_atomic


@dataclass(frozen=True)
class Freshness:
    last_checked: datetime | None = None
    last_changed: datetime | None = None
    newest_month: str | None = None  # 'YYYY-MM', present in both flows


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
    return Freshness(
        last_checked=_time(data.get("last_checked")),
        last_changed=_time(data.get("last_changed")),
        newest_month=data.get("newest_month"),
    )


def record_check(
    published: Path, checked_at: datetime, *, changed: bool, newest_month: str | None
) -> Freshness:
    """Record a successful check; `last_changed` moves only when the data changed."""
    before = read_freshness(published)
    after = Freshness(
        last_checked=checked_at,
        last_changed=checked_at if changed or before.last_changed is None else before.last_changed,
        newest_month=newest_month,
    )
    text = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(after).items()}
    write_atomic(freshness_path(published), json.dumps(text, indent=2) + "\n")
    return after


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
