"""Check the paths a run writes before its first request, so that a bad ATP_WAREHOUSE,
ATP_LANDING_DIR, ATP_PUBLISHED or ATP_REPORT_DIR is one line naming the variable, not a failure
after every year was fetched (or a misleading "not enough disk space" from a folder in /proc).

Nothing is created: a missing folder passes when the nearest folder that exists above it takes
a new file (tested by creating and removing one).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ingest.diskspace import ensure_free_space
from ingest.errors import ConfigError, WarehouseError
from ingest.settings import Settings, path_settings
from ingest.warehouse import damaged_warehouse

# Kernel filesystems: nothing written there is a file (and their free space reads as 0).
_KERNEL_FOLDERS = (Path("/proc"), Path("/sys"))
# A DuckDB file starts with three 4 KiB headers, the first with "DUCK" at byte 8.
_DUCKDB_HEADERS = 3 * 4096
_DUCKDB_MAGIC = b"DUCK"


def check_paths(settings: Settings, *, source: str = "api") -> None:
    """Raise ConfigError, naming the variable and the reason, unless every path a run writes can
    be created or written, none is under /proc or /sys, nothing is a file where a folder is
    needed (or a folder where a file is), and each filesystem has ATP_MIN_FREE_MB free.

    With `source="landing"` (a rebuild) the landing zone is only read: ATP_LANDING_DIR must be
    an existing folder, and it need not be writable.

    An ATP_WAREHOUSE that is not a DuckDB database (other bytes, cut short) raises a
    DamagedWarehouseError saying what to do."""
    if source not in ("api", "landing"):
        raise ValueError(f"source must be 'api' or 'landing', not {source!r}")
    written: list[tuple[str, Path]] = []  # (variable, the folder that exists and is written)
    for variable, path, kind in path_settings(settings):
        if variable == "ATP_LANDING_DIR" and source == "landing":
            _check_readable_folder(variable, path)
            continue
        written.append((variable, _check_writable(variable, path, kind)))
    _check_free_space(written, settings.min_free_mb)
    _check_duckdb_header(settings.warehouse)


def _check_duckdb_header(path: Path) -> None:
    """An existing working warehouse must at least begin as a DuckDB file: one that does not
    is one line here, not a failure of every year of the run's raw load."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(_DUCKDB_HEADERS)
    except FileNotFoundError:
        return  # a first run creates it
    except OSError:
        return  # unreadable: DuckDB says why when it opens it
    if len(header) < _DUCKDB_HEADERS:
        raise damaged_warehouse(path, "cut short" if header else "empty")
    if header[8:12] != _DUCKDB_MAGIC:
        raise damaged_warehouse(path, "not a DuckDB database")


def _check_writable(variable: str, path: Path, kind: str) -> Path:
    """The folder that exists at or above where `path` goes, once checked writable."""
    where = f"{variable}={path}"
    _check_not_kernel(variable, path)
    if kind != "folder":
        in_place = kind == "file"  # written in place, with its lock file beside it
        _check_file_slot(variable, path, in_place)
        if in_place:
            _check_file_slot(variable, path.with_name(path.name + ".lock"), in_place)
    folder = path if kind == "folder" else path.parent
    existing = _nearest_existing(variable, folder)
    if not existing.is_dir():
        raise ConfigError(
            f"{where}: {existing} is a file where a folder is needed. Remove or rename it, or "
            f"point {variable} elsewhere."
        )
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".atp-preflight-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        what = "write in" if existing == folder else f"create {folder} under"
        raise ConfigError(
            f"{where}: cannot {what} {existing} ({exc.strerror}). Point {variable} at a "
            "writable folder, or give this user write access to it."
        ) from None
    return existing


def _check_file_slot(variable: str, path: Path, in_place: bool) -> None:
    """A file the run creates or replaces may be missing or a regular file, nothing else; one
    it rewrites in place must be writable."""
    if _stat(variable, path) is None:
        return
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise ConfigError(
            f"{variable}: {path} is {what} where a file is needed. Remove or rename it, or point "
            f"{variable} at a file name in a writable folder."
        )
    if in_place and not os.access(path, os.W_OK):
        raise ConfigError(
            f"{variable}: {path} is read-only for this user. Make it writable (chmod u+w), or "
            f"point {variable} at another file."
        )


def _check_readable_folder(variable: str, path: Path) -> None:
    _check_not_kernel(variable, path)
    if _stat(variable, path) is None:
        raise ConfigError(
            f"{variable}={path}: no such folder, so there is nothing to rebuild from. Point "
            f"{variable} at the landing zone, or fetch from the API (make run)."
        )
    if not path.is_dir():
        raise ConfigError(
            f"{variable}={path}: is a file where the landing zone's folder is needed. Point "
            f"{variable} at the landing zone."
        )
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(
            f"{variable}={path}: the landing zone cannot be read by this user (permission "
            "denied). Give this user read access to it."
        )


def _check_not_kernel(variable: str, path: Path) -> None:
    resolved = path.resolve()
    for kernel in _KERNEL_FOLDERS:
        if resolved == kernel or kernel in resolved.parents:
            raise ConfigError(
                f"{variable}={path}: is under {kernel}, a kernel filesystem that cannot hold the "
                f"project's files. Point {variable} at a folder on a disk (e.g. under data/)."
            )


def _nearest_existing(variable: str, path: Path) -> Path:
    while _stat(variable, path) is None and path != path.parent:
        path = path.parent
    return path


def _stat(variable: str, path: Path) -> os.stat_result | None:
    """The path's stat, None when it does not exist (or a file stands where a folder is)."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigError(
            f"{variable}: cannot look at {path} ({exc.strerror}). Point {variable} at a folder "
            "this user can use."
        ) from None


def _check_free_space(written: list[tuple[str, Path]], min_free_mb: int) -> None:
    # One check per filesystem, naming every variable on it.
    by_device: dict[int, list[tuple[str, Path]]] = {}
    for variable, folder in written:
        by_device.setdefault(folder.stat().st_dev, []).append((variable, folder))
    for entries in by_device.values():
        variables = [variable for variable, _ in entries]
        names = variables[0] if len(variables) == 1 else ", ".join(variables)
        try:
            ensure_free_space(entries[0][1], 0, min_free_mb, "start a run")
        except WarehouseError as exc:
            raise ConfigError(f"{names}: {exc}") from None
