"""Where `make demo` keeps its data, and the fallback to it: after `make demo` alone (no key, no
warehouse of one's own yet), the commands that show data (the analyst commands, `make dev`,
`make docs`) use the demo's, and say so. The commands that fetch or build (`make run`, ...)
never fall back: they build one's own warehouse in data/.

    python -m ingest.demo_data   # prints `export NAME=value` lines for the fallback, or nothing
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from ingest.settings import DEFAULT_PUBLISHED, DEFAULT_WAREHOUSE

DEMO_DIR = Path("data/demo")
DEMO_START_YEAR = 2013


def demo_paths(folder: Path = DEMO_DIR) -> dict[str, Path]:
    folder = folder.expanduser().resolve()  # absolute: dbt runs elsewhere, Dagster insists
    return {
        "ATP_WAREHOUSE": folder / "warehouse.duckdb",
        "ATP_LANDING_DIR": folder / "landing",
        "ATP_PUBLISHED": folder / "atp.duckdb",
        "ATP_REPORT_DIR": folder / "report",
        "DAGSTER_HOME": folder / ".dagster",
    }


def demo_fallback(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The demo's settings when nothing else is there to show: no ATP_WAREHOUSE or ATP_PUBLISHED
    set, neither default file present, and a demo published copy. Empty otherwise."""
    env = os.environ if env is None else env
    if env.get("ATP_WAREHOUSE") or env.get("ATP_PUBLISHED"):
        return {}
    if any(Path(path).exists() for path in (DEFAULT_WAREHOUSE, DEFAULT_PUBLISHED)):
        return {}
    paths = demo_paths()
    if not paths["ATP_PUBLISHED"].exists():
        return {}
    return {
        **{name: str(path) for name, path in paths.items()},
        "ATP_START_YEAR": str(DEMO_START_YEAR),
        "ATP_DEMO": "1",
    }


def fallback_note(demo: Mapping[str, str]) -> str:
    return (
        f"showing the demo's data ({demo['ATP_PUBLISHED']}: demo figures, not Census's); "
        "`make run` builds your own from the Census API."
    )


def main() -> int:
    """For the Makefile: `eval "$(python -m ingest.demo_data)"` before `dagster dev` and dbt docs."""
    demo = demo_fallback()
    if demo:
        print(f"note: {fallback_note(demo)}", file=sys.stderr)
        for name, value in demo.items():
            print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
