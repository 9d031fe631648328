"""Calls run on daemon threads, for fetches that may wait minutes on the API: after Ctrl-C the run
neither waits for a request in flight nor joins the threads at exit, as a ThreadPoolExecutor
would (its threads are joined at interpreter exit, a read timeout of two minutes each)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future


class DaemonPool:
    """Runs the submitted calls on `size` daemon threads, in the order submitted."""

    def __init__(self, size: int, name: str):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, call: Callable, *args) -> Future:
        future: Future = Future()
        self._calls.put((future, call, args))
        return future

    def shutdown(self, *, wait: bool) -> None:
        for _ in self._threads:
            self._calls.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            future, call, args = item
            if not future.set_running_or_notify_cancel():
                continue  # cancelled before it started
            try:
                future.set_result(call(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on it
                future.set_exception(exc)
