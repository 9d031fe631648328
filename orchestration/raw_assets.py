"""Raw Census assets: one yearly-partitioned asset per flow, keyed like the dbt sources."""

from typing import Literal

import dagster as dg

from ingest.census_format import FLOWS
from ingest.errors import AtpError, CensusAuthError, ConfigError
from ingest.locking import writer_lock
from ingest.partitions import PartitionResult, load_years
from orchestration.resources import AtpSettings

RAW_GROUP = "raw"
# DuckDB takes one writer at a time: every asset that writes the file shares this pool (limit 1).
DUCKDB_POOL = "duckdb"
# Errors that would repeat for every remaining year: stop at the first one.
_STOP_AT_ONCE = (ConfigError, CensusAuthError)


class PartitionsFailed(AtpError):
    """Some year partitions of a run could not be loaded; the message names those that were."""


def yearly_partitions(start_year: int) -> dg.TimeWindowPartitionsDefinition:
    # end_offset=1 adds the unfinished current year, which time windows leave out by default.
    return dg.TimeWindowPartitionsDefinition(
        start=str(start_year), cron_schedule="0 0 1 1 *", fmt="%Y", end_offset=1
    )


class RawLoadConfig(dg.Config):
    source: Literal["api", "landing"] = "api"
    """`api` fetches from the Census API; `landing` reloads the newest landed file, offline."""


def raw_asset_key(flow: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_hitech_{flow}"])


def history_asset_key(flow: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_hitech_{flow}_history"])


def build_raw_asset(flow: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    raw_key, history_key = raw_asset_key(flow), history_asset_key(flow)

    @dg.multi_asset(
        name=raw_key.to_python_identifier(),
        specs=[
            dg.AssetSpec(
                raw_key,
                group_name=RAW_GROUP,
                kinds={"python", "duckdb"},
                description=(
                    f"U.S. {flow} of advanced technology products by partner, ATP group and "
                    f"month, as delivered by the Census API ({flow}/hitech), one calendar year "
                    "per partition: the newest vintage of each year."
                ),
            ),
            dg.AssetSpec(
                history_key,
                group_name=RAW_GROUP,
                kinds={"python", "duckdb"},
                description=(
                    f"Every distinct vintage of every {flow} partition ever fetched, tagged by "
                    "landing file and fetch time: what the revisions mart compares."
                ),
            ),
        ],
        partitions_def=partitions_def,
        # A run over several years is one step that loads them in turn (no per-year run overhead).
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def _raw(context: dg.AssetExecutionContext, config: RawLoadConfig, settings: AtpSettings):
        loaded: dict[str, dict] = {}
        failed: list[str] = []
        years = [int(key) for key in context.partition_keys]
        with writer_lock(settings.settings.warehouse):
            outcomes, interrupted = _load_all(
                context, settings.settings, flow, years, config.source
            )
        for year, outcome in outcomes:
            if isinstance(outcome, AtpError):
                where = f"{flow} {year}"
                text = str(outcome)
                failed.append(text if text.startswith(where) else f"{where}: {text}")
                context.log.error(failed[-1])
                continue
            loaded[str(year)] = partition_metadata(outcome)
            context.log.info(outcome.describe())
        if failed or interrupted:
            # The step fails, so record by hand the years that did load before saying so.
            for key, metadata in loaded.items():
                for asset_key in (raw_key, history_key):
                    context.log_event(
                        dg.AssetMaterialization(asset_key, partition=key, metadata=metadata)
                    )
        if interrupted:
            raise interrupted
        if failed:
            done = f": {', '.join(loaded)}" if loaded else ""
            raise PartitionsFailed(
                f"{flow}: {len(loaded)} of {len(years)} year(s) loaded{done}; failed:\n"
                + "\n".join(failed)
            )
        for key, metadata in loaded.items():
            context.add_asset_metadata(metadata, asset_key=raw_key, partition_key=key)
        yield dg.MaterializeResult(asset_key=raw_key)
        yield dg.MaterializeResult(asset_key=history_key)

    return _raw


def _load_all(context, settings, flow, years, source):
    """Every year's outcome, in order, so that each year ends either materialized or failed
    with its reason. An error that would repeat for every year (a bad key, a bad setting)
    fails the remaining years at once; an unexpected error fails the years not yet loaded.
    An interrupt (Ctrl-C) is returned beside the outcomes of the years before it."""
    outcomes: list[tuple[int, PartitionResult | AtpError]] = []
    stop: AtpError | None = None
    interrupted: BaseException | None = None
    try:
        for year, outcome in load_years(settings, flow, years, source):
            outcomes.append((year, outcome))
            if isinstance(outcome, _STOP_AT_ONCE):
                context.log.error(
                    f"{flow}: stopping at {year}, this error would repeat for every year"
                )
                stop = outcome
                break
    except Exception as exc:  # noqa: BLE001 - reported per year, not lost with the step
        stop = AtpError(f"{exc.__class__.__name__}: {exc}")
    except BaseException as exc:  # Ctrl-C: Dagster raises its interrupt inside the step
        interrupted = exc
    done = {year for year, _ in outcomes}
    return outcomes + [(year, stop) for year in years if year not in done and stop], interrupted


def partition_metadata(result: PartitionResult) -> dict:
    months = result.months
    return {
        "summary": result.describe(),
        "status": result.status,
        "rows": dg.MetadataValue.int(result.rows),
        "months_present": dg.MetadataValue.int(len(months)),
        "first_month": months[0] if months else "",
        "last_month": months[-1] if months else "",
        "fetched_at": result.fetched_at.isoformat() if result.fetched_at else "",
        "landing_file": result.landing_file or "",
        "sha256": result.sha256 or "",
        "requests": dg.MetadataValue.int(result.requests),
        "rows_kept_unchanged": dg.MetadataValue.int(result.stored_rows),
    }


def build_raw_assets(start_year: int) -> list[dg.AssetsDefinition]:
    partitions_def = yearly_partitions(start_year)
    return [build_raw_asset(flow, partitions_def) for flow in FLOWS]
