"""`make demo`: the whole pipeline on realistic data, with no Census key and no network.

    python -m fake_census.demo [--dir data/demo]

Starts the fake Census API with the demo dataset (fake_census/realistic.py: 2013 through the last
month Census has released, calibrated to published figures) on a free 127.0.0.1 port, runs
`atp run` in a subprocess with every file under the demo folder (warehouse, landing zone,
published copy, HTML report, Dagster instance) and ATP_DEMO=1 (the publication records that it
holds demo data), streams the run's output, stops the API and says how to look at the result.
Exits with the run's exit code. Run it again to refresh; delete the folder to start over.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from ingest.demo_data import DEMO_DIR, DEMO_START_YEAR, demo_fallback, demo_paths

from .code_lists import LISTS_PATH
from .realistic import RELEASE_LAG_DAYS, realistic_dataset
from .server import API_ROOT, FakeCensusApi

DEMO_KEY = "demo"  # the fake API takes any non-empty key
CALIBRATED_YEAR = 2024  # the year the demo's figures match published ones best


def atp_command() -> Path:
    """The `atp` console script installed beside this Python (the project's venv)."""
    return Path(sys.executable).parent / "atp"


def dagster_yaml() -> Path:
    """orchestration/dagster.yaml, found without importing orchestration (Dagster is slow)."""
    spec = importlib.util.find_spec("orchestration")
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "dagster.yaml"
        if candidate.exists():
            return candidate
    return Path(__file__).resolve().parents[1] / "orchestration" / "dagster.yaml"


def demo_environment(base_url: str, folder: Path, env: dict[str, str] | None = None) -> dict:
    """The run's environment: the caller's, with the API, the key and every path set for the
    demo (a CENSUS_API_KEY or ATP_WAREHOUSE of the caller's never reaches the demo run)."""
    out = dict(os.environ if env is None else env)
    out.update({name: str(path) for name, path in demo_paths(folder).items()})
    out.update(
        {
            "CENSUS_API_BASE_URL": base_url,
            # The fake serves the ATP code lists too (product detail).
            "CENSUS_ATP_CODES_BASE_URL": base_url.removesuffix(API_ROOT) + LISTS_PATH,
            "CENSUS_API_KEY": DEMO_KEY,
            "ATP_START_YEAR": str(DEMO_START_YEAR),
            # The rule the demo data follow for the last released month, so the release check
            # agrees with them whatever the caller's setting.
            "ATP_RELEASE_LAG_DAYS": str(RELEASE_LAG_DAYS),
            "ATP_DEMO": "1",
            "PYTHONUNBUFFERED": "1",  # the run's lines as they happen
        }
    )
    return out


def prepare_folder(folder: Path) -> None:
    paths = demo_paths(folder)
    paths["DAGSTER_HOME"].mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dagster_yaml(), paths["DAGSTER_HOME"] / "dagster.yaml")


def run_pipeline(base_url: str, folder: Path) -> int:
    """`atp run` in a subprocess, its output straight to ours; its exit code."""
    proc = subprocess.Popen([str(atp_command()), "run"], env=demo_environment(base_url, folder))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the whole process group: the run stops itself (exit 130) and says
        # which years it loaded. Wait for that; a second Ctrl-C stops waiting.
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            return 130


def next_steps(folder: Path, year: int) -> str:
    paths = demo_paths(folder)
    shown = {name: _shown(path) for name, path in paths.items()}
    # With no data of one's own yet, the `atp` commands fall back to the demo's by themselves.
    by_default = demo_fallback().get("ATP_PUBLISHED") == str(paths["ATP_PUBLISHED"])
    published = "" if by_default else f"ATP_PUBLISHED={shlex.quote(shown['ATP_PUBLISHED'])} "
    atp = published + _shown(atp_command())
    return "\n".join(
        [
            "",
            f"Demo data (not Census figures) published to {shown['ATP_PUBLISHED']}. Try:",
            f"  {atp} report --year {year}",
            f"  {atp} partner mexico",
            f"  {atp} category aerospace --year {year}",
            f"  {atp} products mexico --year {year}",
            f'  {atp} sql "SELECT * FROM fct_us_atp_year ORDER BY year"',
            f"HTML report: {shown['ATP_REPORT_DIR']}/index.html",
            *(
                ["Until `make run` builds your own, `atp`, `make dev` and `make docs` show these."]
                if by_default
                else []
            ),
        ]
    )


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it (shorter to copy)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fake_census.demo",
        description="Run the whole pipeline on realistic demo data from a local fake of the "
        "Census API: no key, no network. Everything goes under --dir.",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEMO_DIR,
        help=f"folder for the warehouse, landing zone, published copy, report and Dagster "
        f"instance ({DEMO_DIR})",
    )
    args = parser.parse_args(argv)

    if not atp_command().exists():
        print(f"{atp_command()} is missing: install the project first (make install).")
        return 2
    prepare_folder(args.dir)
    dataset = realistic_dataset()
    last = f"{dataset.last_year}-{dataset.last_month:02d}"
    with FakeCensusApi(dataset) as api:
        print(
            f"Demo: a local fake Census API ({api.root_url}) serves realistic demo data, "
            f"{DEMO_START_YEAR}-01..{last} (calibrated to published 2022 and 2024 ATP figures and 2024 "
            f"U.S.-Mexico trade); "
            f"everything goes to {_shown(demo_paths(args.dir)['ATP_WAREHOUSE'].parent)}/.",
            flush=True,
        )
        code = run_pipeline(api.base_url, args.dir)
    if code == 0:
        print(next_steps(args.dir, CALIBRATED_YEAR))
    elif code == 130:
        print("\nThe demo run was interrupted; `make demo` again completes it.")
    else:
        print(f"\nThe demo run failed (exit code {code}); its output above says why.")
    return code


if __name__ == "__main__":
    sys.exit(main())
