"""Refuse to write when the disk is nearly full, before anything is half-written."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.errors import WarehouseError

MB = 2**20


def ensure_free_space(path: Path, needed_bytes: int, floor_mb: int, what: str) -> None:
    """Raise unless the filesystem holding `path` has `needed_bytes` free plus a floor."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed_bytes + floor_mb * MB:
        raise WarehouseError(
            f"not enough disk space to {what}: {free / MB:,.0f} MB free on the filesystem of "
            f"{path}, {needed_bytes / MB:,.0f} MB needed plus a floor of {floor_mb} MB "
            "(ATP_MIN_FREE_MB). Free some space or point the path at a larger disk; nothing "
            "was written."
        )
