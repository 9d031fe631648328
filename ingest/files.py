"""Atomic file writes: a reader sees the old file or the whole new one, never a part of it."""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path, *, replace: bool = True, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside `target` (not yet created) for the caller to write; on
    success, the file is synced and moved to `target` in one step. `replace=False` never
    replaces an existing `target` (FileExistsError). On failure the temporary file is removed
    and `target` is untouched."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the caller creates it (DuckDB insists on creating its own files)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # fails if the name exists
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes | str, *, replace: bool = True) -> None:
    """Write `data` to `target` through `atomic_path`."""
    with atomic_path(target, replace=replace) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def remove_stale_temporaries(target: Path, before: float) -> list[Path]:
    """Remove what a killed `atomic_path` left beside `target`: its temporary files (and the
    `.wal` DuckDB keeps beside one) last written before `before` (a `time.time()`) and not held
    by a live process. Returns the files removed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]+\.tmp(\.wal)?")
    try:
        names = sorted(path.name for path in target.parent.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for name in filter(pattern.fullmatch, names):
        path = target.parent / name
        owner = path.with_name(name.removesuffix(".wal"))  # a .wal goes with its database
        try:
            if path.stat().st_mtime >= before or (owner.exists() and _in_use(owner)):
                continue
            path.unlink()
        except OSError:  # gone meanwhile, or not ours to open or remove: left as it is
            continue
        removed.append(path)
    return removed


def _in_use(path: Path) -> bool:
    """Whether another process holds a lock on `path`: DuckDB locks every file it has open."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also releases the lock just taken
    return False


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
