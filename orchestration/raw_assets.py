"""Raw Census assets: the raw table and the vintage history of each flow, keyed like the dbt
sources, yearly partitions, loaded together in one step.

Refresh by change: every year that loads is materialized, with `changed` in its metadata; the
dbt step of a refresh skips the build (and so publishing) when nothing changed since the last
publication. A run none of whose years is released yet (HTTP 204) yields no asset: the years
get an observation saying so, and nothing downstream runs.
"""

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.client import RetryBudget
from ingest.datasets import DATASETS, FLOWS, HITECH, HS, CensusDataset
from ingest.errors import AtpError, ConfigError
from ingest.freshness import read_freshness, record_check
from ingest.locking import writer_lock
from ingest.partitions import PartitionResult
from ingest.preflight import check_paths
from ingest.releases import release_status
from ingest.run_loads import load_run
from ingest.settings import Settings, census_today
from orchestration.alerting import alert_release
from orchestration.asset_policies import OWNERS, RAW_FRESHNESS
from orchestration.release_checks import release_check_results, release_check_specs
from orchestration.tags import tag_outcome

RAW_GROUP = "raw"
RAW_STEP = "raw_census"
# DuckDB takes one writer at a time: every asset that writes the file shares this pool (limit 1).
DUCKDB_POOL = "duckdb"


def yearly_partitions(start_year: int) -> dg.TimeWindowPartitionsDefinition:
    # end_offset=1 adds the unfinished current year, which time windows leave out by default.
    return dg.TimeWindowPartitionsDefinition(
        start=str(start_year), cron_schedule="0 0 1 1 *", fmt="%Y", end_offset=1
    )


class RawLoadConfig(dg.Config):
    source: Literal["api", "landing"] = "api"
    """`api` fetches from the Census API; `landing` reloads the newest landed file, offline."""
    accept_fewer_months: bool = False
    """Take an answer that lacks months already held (a release that slipped, a partial
    answer); otherwise such a year is kept as stored, with a warning naming the months."""
    warehouse: str | None = None
    """The warehouse file the run was started for (`atp` sets it when it queues a run): the run
    refuses to start if its own settings write another."""


def raw_asset_key(flow: str, dataset: CensusDataset = HITECH) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_{dataset.name}_{flow}"])


def history_asset_key(flow: str, dataset: CensusDataset = HITECH) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_{dataset.name}_{flow}_history"])


ATP_CODES_KEY = dg.AssetKey([RAW_GROUP, "atp_codes"])
_RAW = {
    "group_name": RAW_GROUP,
    "kinds": {"python", "duckdb"},
    "skippable": True,
    "owners": OWNERS,
    "freshness_policy": RAW_FRESHNESS,
}


def _specs(flow: str, dataset: CensusDataset) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            raw_asset_key(flow, dataset),
            description=(
                f"U.S. {flow} of advanced technology products by partner, {dataset.what} and "
                f"month, as delivered by the Census API ({dataset.endpoint(flow)}), one "
                "calendar year per partition: the newest vintage of each year."
            ),
            **_RAW,
        ),
        dg.AssetSpec(
            history_asset_key(flow, dataset),
            description=(
                f"Every distinct vintage of every {dataset.endpoint(flow)} partition ever "
                "fetched, tagged by landing file and fetch time: what the revisions mart compares."
            ),
            **_RAW,
        ),
    ]


ATP_CODES_SPEC = dg.AssetSpec(
    ATP_CODES_KEY,
    description=(
        "The ATP code lists (impatpYY.txt, expatpYY.txt under CENSUS_ATP_CODES_BASE_URL): which "
        "10-digit codes make up each ATP group, by flow and year, as landed with the year's "
        "product detail."
    ),
    **_RAW,
)


def build_raw_assets(start_year: int) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=RAW_STEP,
        specs=[
            *(
                spec
                for dataset in DATASETS.values()
                for flow in FLOWS
                for spec in _specs(flow, dataset)
            ),
            ATP_CODES_SPEC,
        ],
        check_specs=release_check_specs(raw_asset_key),
        partitions_def=yearly_partitions(start_year),
        # A run over several years is one step that loads them in turn (no per-year run overhead).
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def raw_census(
        context: dg.AssetExecutionContext,
        config: RawLoadConfig,
        settings: dg.ResourceParam[Settings],
        warehouse: DuckDBResource,
    ):
        _check_warehouse(config.warehouse, settings.warehouse)
        check_paths(settings, source=config.source)  # before the first request
        years = [int(key) for key in context.partition_keys]
        checked_at = datetime.now(UTC)
        # One budget for the run: once the API is down or refuses the key, no flow asks again.
        with writer_lock(settings.warehouse):
            loads = load_run(
                settings,
                years,
                source=config.source,
                accept_fewer_months=config.accept_fewer_months,
                budget=RetryBudget(),
                log=context.log,
                still_going=lambda: still_in_progress(context),
            )
            failed = loads.failed or loads.interrupted
            if not failed:  # (a busy file would only make this wait)
                with warehouse.get_connection() as con:
                    status = release_status(con, census_today(), settings.release_lag_days)
        loaded = loads.loaded
        if failed:
            # The step fails: record by hand the years that did change before saying so.
            # Yielded, not logged: events logged by a step that then raises are lost.
            for (dataset, flow, key), result in loaded.items():
                if result.changed:
                    for asset_key in _written_keys(dataset, flow):
                        yield dg.AssetMaterialization(
                            asset_key, partition=key, metadata=partition_metadata(result)
                        )
            tag_outcome(context, "failed")
            raise loads.interrupted or loads.failure()
        changed = loads.changed
        before = read_freshness(settings.published)
        record_check(
            settings.published, checked_at, changed=changed, newest_month=status.newest_held
        )
        tag_outcome(context, "changed" if changed else "unchanged")
        for line in alert_release(settings, status):
            context.log.info(line)
        yield from release_check_results(status, raw_asset_key)
        released = {key: r for key, r in loaded.items() if r.status == "loaded"}
        if not released:
            # No year has data yet (204): nothing to show as materialized, nothing to build.
            context.log.info("no year of this run is released yet; nothing to build")
            for (dataset, flow, key), result in loaded.items():
                context.log_event(
                    dg.AssetObservation(
                        raw_asset_key(flow, dataset),
                        partition=key,
                        metadata=partition_metadata(result),
                    )
                )
            return
        if not changed:
            since = before.last_changed.strftime("%Y-%m-%d") if before.last_changed else "-"
            context.log.info(f"nothing new since {since}: every year as stored")
        # Every year is materialized, changed or not (its metadata says which), so that
        # backfills and "Materialize" succeed in Dagster's terms; the dbt step decides whether
        # a build is due (DbtBuildConfig.only_if_changed).
        for (dataset, flow, key), result in loaded.items():
            context.add_asset_metadata(
                partition_metadata(result),
                asset_key=raw_asset_key(flow, dataset),
                partition_key=key,
            )
        # Every raw asset, product detail's too when ATP_PRODUCTS=0 (its tables as they were):
        # the dbt step depends on them all, and Dagster skips a step an output is missing for.
        for dataset in DATASETS.values():
            for flow in FLOWS:
                for asset_key in _table_keys(dataset, flow):
                    yield dg.MaterializeResult(asset_key=asset_key)
        yield dg.MaterializeResult(asset_key=ATP_CODES_KEY)

    return raw_census


def _table_keys(dataset: CensusDataset, flow: str) -> tuple[dg.AssetKey, ...]:
    """A dataset's raw table and its history, for one flow."""
    return raw_asset_key(flow, dataset), history_asset_key(flow, dataset)


def _written_keys(dataset: CensusDataset, flow: str) -> tuple[dg.AssetKey, ...]:
    """The assets a changed partition of `dataset` writes: its tables (and for product
    detail, the code lists)."""
    keys = _table_keys(dataset, flow)
    return (*keys, ATP_CODES_KEY) if dataset is HS else keys


def _check_warehouse(asked: str | None, own: Path) -> None:
    if asked is not None and Path(asked).resolve() != own.resolve():
        raise ConfigError(
            f"this run was queued for the warehouse {asked}, but the Dagster daemon's settings "
            f"write {own}: run `atp` with --no-queue to load {asked} in its own process"
        )


class RunEnded(AtpError):
    """The run was marked failed or canceled (by run monitoring, the UI, a later `atp` run)
    while this step was still going: it stops before committing anything more."""


def still_in_progress(context) -> bool:
    run = context.instance.get_run_by_id(context.run_id)
    if run is not None and run.status not in (dg.DagsterRunStatus.STARTED,):
        raise RunEnded(
            f"run {context.run_id[:8]} is {run.status.value.lower()}: nothing more is committed "
            "for it; the next run loads what it did not."
        )
    return True


def partition_metadata(result: PartitionResult) -> dict:
    months = result.months
    return {
        "summary": result.describe(),
        "status": result.status,
        "changed": result.changed,
        "rows": dg.MetadataValue.int(result.rows),
        "missing_values": dg.MetadataValue.int(result.missing_values),
        "months_present": dg.MetadataValue.int(len(months)),
        "first_month": months[0] if months else "",
        "last_month": months[-1] if months else "",
        "fetched_at": result.fetched_at.isoformat() if result.fetched_at else "",
        "landing_file": result.landing_file or "",
        "sha256": result.sha256 or "",
        "content_sha256": result.content_sha256 or "",
        "requests": dg.MetadataValue.int(result.requests),
        "rows_kept_unchanged": dg.MetadataValue.int(result.stored_rows),
        "months_not_in_answer": ", ".join(result.dropped_months),
        # Product detail: the query plan's requests, or why the flow-year was skipped.
        "note": result.note,
    }
