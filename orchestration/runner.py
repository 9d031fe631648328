"""`atp run` / `atp rebuild`: materialize every raw partition through Dagster, then dbt build.

Runs in-process against the Dagster instance in DAGSTER_HOME (the Makefile points it at
`.dagster/`), so `make dev` shows these runs and their materializations.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

import dagster as dg

from ingest.census_format import FLOWS
from ingest.settings import Settings
from orchestration.raw_assets import raw_asset_key

# These failures repeat for every partition; stop at the first one instead of 28 times.
_FATAL_ERRORS = {"ConfigError", "CensusAuthError", "CensusRequestError", "WarehouseBusyError"}
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def run_pipeline(
    source: str = "api",
    years: Iterable[int] | None = None,
    *,
    instance: dg.DagsterInstance | None = None,
    out: Callable[[str], None] = print,
) -> int:
    """Load the raw partitions of `years` (default: all) from `source`, then build dbt.

    Returns a process exit code: 0 when every step succeeded.
    """
    settings = Settings.from_env()
    if source == "api":
        settings.require_api_key()  # fail before any request
    from orchestration.definitions import defs  # loads dbt's manifest: import only when needed

    instance = instance or _instance()
    years = list(years) if years is not None else settings.years()
    raw_job = defs.resolve_job_def("raw_census_job")
    op_config = {"config": {"source": source}}
    run_config = {"ops": {_op_name(flow): op_config for flow in FLOWS}, **_QUIET}
    verb = "fetching from the Census API" if source == "api" else "reloading from the landing zone"
    out(f"Raw partitions {years[0]}..{years[-1]} ({verb}) into {settings.warehouse}")
    failures: list[str] = []
    for year in years:
        result = raw_job.execute_in_process(
            partition_key=str(year), instance=instance, run_config=run_config, raise_on_error=False
        )
        for flow in FLOWS:
            for mat in result.asset_materializations_for_node(_op_name(flow)):
                out("  " + mat.metadata["summary"].value)
        errors = _step_errors(result)
        for error in errors:
            out(f"  FAILED {year}: {_root_message(error)}")
        failures += [f"{year}: {_root_message(e)}" for e in errors]
        if any(_root(e).cls_name in _FATAL_ERRORS for e in errors):
            out("Stopping: this error would repeat for every partition.")
            break
    if failures:
        out(f"{len(failures)} raw partition load(s) failed; dbt build skipped. Fix and re-run.")
        return 1
    return build_dbt(instance=instance, out=out)


def build_dbt(*, instance: dg.DagsterInstance | None = None, out=print) -> int:
    from orchestration.definitions import defs

    out("dbt build (staging, intermediate, marts and every test) ...")
    result = defs.resolve_job_def("dbt_build_job").execute_in_process(
        instance=instance or _instance(), run_config=_QUIET, raise_on_error=False
    )
    models = len(result.get_asset_materialization_events())
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    out(
        f"  {models} dbt models and seeds built, {len(checks) - len(failed)}/{len(checks)} tests passed"
    )
    for check in failed:
        out(f"  FAILED test {check.check_name} on {check.asset_key.to_user_string()}")
    errors = _step_errors(result)
    for error in errors:
        out(f"  FAILED dbt build: {_root_message(error)}")
    if errors or failed or not result.success:
        out("dbt build failed: the marts keep their previous contents where a test failed.")
        return 1
    out("Done.")
    return 0


def _op_name(flow: str) -> str:
    return raw_asset_key(flow).to_python_identifier()


def _step_errors(result: dg.ExecuteInProcessResult) -> list:
    return [
        event.step_failure_data.error
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.error is not None
    ]


def _root(error):
    # Dagster wraps the exception an asset raised; the innermost one says what went wrong.
    while error.cause is not None:
        error = error.cause
    return error


def _root_message(error) -> str:
    return _root(error).message.strip()


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_pipeline())
