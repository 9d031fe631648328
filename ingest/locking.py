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

log = logging.getLogger(__name__)


@contextmanager
def writer_lock(warehouse: Path) -> Iterator[None]:
    path = warehouse.with_name(warehouse.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another run writing %s to finish ...", warehouse)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
