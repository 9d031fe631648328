"""Serve the fake Census API standalone, to try `make run` (or the benchmark's volume) offline.

    python -m fake_census                        # synthetic, 2013..this year, Jan-Sep
    python -m fake_census --dataset fixture      # the small hand-computable test dataset
    python -m fake_census --dataset demo         # realistic, 2013..the last released month
    CENSUS_API_BASE_URL=http://127.0.0.1:8765/data/timeseries/intltrade \\
        CENSUS_API_KEY=anything make run               # in another shell

Any non-empty key is accepted. Serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from ingest.settings import census_today

from .fixtures import YEAR_MONTHS, fixture_dataset
from .realistic import COUNTRIES as DEMO_COUNTRIES
from .realistic import realistic_dataset
from .server import FakeCensusApi
from .synthetic import synthetic_dataset


def main(argv: list[str] | None = None) -> int:
    this_year = census_today().year
    parser = argparse.ArgumentParser(
        prog="python -m fake_census",
        description="Offline fake of the Census International Trade API (hitech endpoints).",
    )
    parser.add_argument(
        "--dataset",
        choices=["synthetic", "fixture", "demo"],
        default="synthetic",
        help="synthetic: real volume (250 partners x 12 HITECH x 12 months per flow-year); "
        f"fixture: the small end-to-end test data ({min(YEAR_MONTHS)}-{max(YEAR_MONTHS)}, "
        "ignores the year options); demo: realistic data calibrated to published figures "
        f"({len(DEMO_COUNTRIES)} real partners, 2013 through the last month Census has "
        "released, as `make demo` serves it; ignores the year options)",
    )
    parser.add_argument("--first-year", type=int, default=2013, help="first year with data (2013)")
    parser.add_argument(
        "--last-year", type=int, default=this_year, help=f"last year with data ({this_year})"
    )
    parser.add_argument(
        "--last-month",
        type=int,
        default=9,
        choices=range(1, 13),
        metavar="1-12",
        help="months released in the last year (9)",
    )
    parser.add_argument("--seed", type=int, default=0, help="synthetic values seed (0)")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (8765; 0: any)")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="generate every synthetic year up front instead of on its first request",
    )
    args = parser.parse_args(argv)

    if args.dataset == "demo":
        dataset = realistic_dataset()
        what = (
            f"demo dataset, {dataset.first_year}-01..{dataset.last_year}-{dataset.last_month:02d}"
        )
    elif args.dataset == "fixture":
        dataset = fixture_dataset()
        what = "fixture dataset, " + ", ".join(f"{y}: {m} months" for y, m in YEAR_MONTHS.items())
    else:
        if args.first_year > args.last_year:
            parser.error("--first-year is after --last-year")
        dataset = synthetic_dataset(
            args.first_year, args.last_year, last_month=args.last_month, seed=args.seed
        )
        what = (
            f"synthetic dataset, {args.first_year}-{args.last_year} "
            f"({args.last_year} through month {args.last_month}), seed {args.seed}"
        )
        if args.warm:
            for year in range(args.first_year, args.last_year + 1):
                for flow in ("imports", "exports"):
                    dataset.rows(flow, year)

    api = FakeCensusApi(dataset, port=args.port, cache_bodies=True)
    try:
        api.start()
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Fake Census API ({what}) listening; any non-empty key works.")
    print(f"CENSUS_API_BASE_URL={api.base_url}")
    print(f"CENSUS_ATP_CODES_BASE_URL={api.atp_codes_base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        served = len(api.data_requests)
        api.stop()
    print(f"Stopped after {served} data request(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
