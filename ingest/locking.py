"""One writer at a time per warehouse, across processes: `atp` commands, Dagster runs, tests.

DuckDB itself refuses a second writer with a lock error. Every step that writes the working file
takes this lock first, so a second run waits for the first instead of failing. The lock is an
flock on `<warehouse>.lock`: the kernel releases it when its holder exits, even when killed.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import WarehouseError

log = logging.getLogger(__name__)


@contextmanager
def writer_lock(warehouse: Path) -> Iterator[None]:
    path = warehouse.with_name(warehouse.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        # mkdir says "File exists" or "Not a directory" when a file stands where a folder goes.
        in_the_way = isinstance(exc, FileExistsError | NotADirectoryError)
        reason = "a file stands where a folder is needed" if in_the_way else exc.strerror
        raise WarehouseError(
            f"cannot create the lock file {path} beside ATP_WAREHOUSE ({reason}). Point "
            "ATP_WAREHOUSE at a file in a folder this user can write."
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another run writing %s to finish ...", warehouse)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
