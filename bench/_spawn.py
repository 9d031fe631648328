"""Launcher for run_bench.py: starts each measured command from a small process.

Why: on Linux a child's ru_maxrss starts at the high-water RSS of the process that spawned it
(Python's subprocess uses vfork, and exec records the old address space's peak). Spawned from the
benchmark itself, which holds the fake API's 14 years of data (~350 MB), every child would read
at least that much. Spawned from here (~10 MB), the figure is the child's own.

Protocol, JSON lines: stdin gets {"cmd": [...], "env": {...}, "cwd": "..."}; stdout answers
{"pid": n}, then {"t": seconds since start, "line": text} per output line of the command (stdout
and stderr merged), then {"exit": code, "wall": s, "maxrss_kb": n, "utime": s, "stime": s}.
"""

import json
import os
import subprocess
import sys
import time


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    for request in sys.stdin:
        job = json.loads(request)
        start = time.perf_counter()
        proc = subprocess.Popen(
            job["cmd"],
            cwd=job["cwd"],
            env=job["env"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        emit({"pid": proc.pid})
        for line in proc.stdout:
            emit({"t": time.perf_counter() - start, "line": line.rstrip("\n")})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        proc.stdout.close()
        emit(
            {
                "exit": proc.returncode,
                "wall": wall,
                "maxrss_kb": usage.ru_maxrss,  # KiB on Linux
                "utime": usage.ru_utime,
                "stime": usage.ru_stime,
            }
        )


if __name__ == "__main__":
    main()
