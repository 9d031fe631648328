"""Raw Census assets: the raw table and the vintage history of each flow, keyed like the dbt
sources, yearly partitions, loaded together in one step.

Refresh by change: the four assets are optional outputs. A run whose every partition comes back
with the content already stored yields none of them, so Dagster skips the dbt build, publishing
and the HTML report, and the UI shows the years as they were (with a "checked" observation).
"""

from datetime import UTC, datetime
from typing import Literal

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.census_format import FLOWS
from ingest.client import RetryBudget
from ingest.errors import AtpError, CensusAuthError, ConfigError
from ingest.freshness import read_freshness, record_check
from ingest.locking import writer_lock
from ingest.partitions import PartitionResult, load_years
from ingest.preflight import check_paths
from ingest.releases import release_status
from ingest.settings import census_today
from orchestration.release_checks import release_check_results, release_check_specs
from orchestration.resources import AtpSettings

RAW_GROUP = "raw"
RAW_STEP = "raw_census"
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
    rebuild_unchanged: bool = False
    """Build and publish even when nothing changed (`atp run`, `atp rebuild`); otherwise a run
    that finds only what is stored ends after this step."""


def raw_asset_key(flow: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_hitech_{flow}"])


def history_asset_key(flow: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_GROUP, f"census_hitech_{flow}_history"])


def _specs(flow: str) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            raw_asset_key(flow),
            group_name=RAW_GROUP,
            kinds={"python", "duckdb"},
            skippable=True,
            description=(
                f"U.S. {flow} of advanced technology products by partner, ATP group and month, "
                f"as delivered by the Census API ({flow}/hitech), one calendar year per "
                "partition: the newest vintage of each year."
            ),
        ),
        dg.AssetSpec(
            history_asset_key(flow),
            group_name=RAW_GROUP,
            kinds={"python", "duckdb"},
            skippable=True,
            description=(
                f"Every distinct vintage of every {flow} partition ever fetched, tagged by "
                "landing file and fetch time: what the revisions mart compares."
            ),
        ),
    ]


def build_raw_assets(start_year: int) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=RAW_STEP,
        specs=[spec for flow in FLOWS for spec in _specs(flow)],
        check_specs=release_check_specs(raw_asset_key),
        partitions_def=yearly_partitions(start_year),
        # A run over several years is one step that loads them in turn (no per-year run overhead).
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def raw_census(
        context: dg.AssetExecutionContext,
        config: RawLoadConfig,
        settings: AtpSettings,
        warehouse: DuckDBResource,
    ):
        config_settings = settings.settings
        check_paths(config_settings, source=config.source)  # before the first request
        years = [int(key) for key in context.partition_keys]
        checked_at = datetime.now(UTC)
        # One budget for the run: once the API is down or refuses the key, no flow asks again.
        budget = RetryBudget()
        outcomes: dict[str, list] = {}
        interrupted = None
        with writer_lock(config_settings.warehouse):
            for flow in FLOWS:
                outcomes[flow], interrupted = _load_all(
                    context, config_settings, flow, years, config.source, budget
                )
                if interrupted:
                    break
            loaded, failed = _split(context, outcomes)
            if not (failed or interrupted):  # (a busy file would only make this wait)
                with warehouse.get_connection() as con:
                    status = release_status(con, census_today(), config_settings.release_lag_days)
        if failed or interrupted:
            # The step fails: record by hand the years that did change before saying so.
            for (flow, key), result in loaded.items():
                if result.changed:
                    for asset_key in (raw_asset_key(flow), history_asset_key(flow)):
                        context.log_event(
                            dg.AssetMaterialization(
                                asset_key, partition=key, metadata=partition_metadata(result)
                            )
                        )
            if interrupted:
                raise interrupted
            raise PartitionsFailed(_failure_summary(years, loaded, failed))
        changed = any(result.changed for result in loaded.values())
        before = read_freshness(config_settings.published)
        record_check(
            config_settings.published, checked_at, changed=changed, newest_month=status.newest_held
        )
        yield from release_check_results(status, raw_asset_key)
        if not (changed or config.rebuild_unchanged):
            since = before.last_changed.strftime("%Y-%m-%d") if before.last_changed else "-"
            context.log.info(f"nothing new since {since}; published copy unchanged")
            for (flow, key), result in loaded.items():
                context.log_event(
                    dg.AssetObservation(
                        raw_asset_key(flow), partition=key, metadata=partition_metadata(result)
                    )
                )
            return
        for (flow, key), result in loaded.items():
            context.add_asset_metadata(
                partition_metadata(result), asset_key=raw_asset_key(flow), partition_key=key
            )
        for flow in FLOWS:
            yield dg.MaterializeResult(asset_key=raw_asset_key(flow))
            yield dg.MaterializeResult(asset_key=history_asset_key(flow))

    return raw_census


def _split(context, outcomes) -> tuple[dict, dict]:
    """The loaded partitions by (flow, year key), and the failures' reasons by flow and year."""
    loaded: dict[tuple[str, str], PartitionResult] = {}
    failed: dict[str, dict[int, str]] = {}
    for flow, flow_outcomes in outcomes.items():
        for year, outcome in flow_outcomes:
            if isinstance(outcome, AtpError):
                where, text = f"{flow} {year}", str(outcome)
                failed.setdefault(flow, {})[year] = text.removeprefix(f"{where}: ")
                context.log.error(f"{where}: {failed[flow][year]}")
            else:
                loaded[(flow, str(year))] = outcome
                context.log.info(outcome.describe())
    return loaded, failed


def _failure_summary(years, loaded, failed) -> str:
    """Per flow with a failure: '2 of 3 year(s) loaded: 2024, 2025; failed:', then each reason
    once, with the years it stopped ('imports 2025, 2026: the Census API ...')."""
    lines = []
    for flow, errors in failed.items():
        done = [key for (f, key), result in loaded.items() if f == flow]
        listed = f": {', '.join(done)}" if done else ""
        lines.append(f"{flow}: {len(done)} of {len(years)} year(s) loaded{listed}; failed:")
        by_reason: dict[str, list[str]] = {}
        for year, reason in errors.items():
            by_reason.setdefault(reason, []).append(str(year))
        lines += [f"{flow} {', '.join(ys)}: {reason}" for reason, ys in by_reason.items()]
    return "\n".join(lines)


def _load_all(context, settings, flow, years, source, budget):
    """Every year's outcome, in order, so that each year ends either loaded or failed with its
    reason. An error that would repeat for every year (a bad key, a bad setting) fails the
    remaining years at once; an unexpected error fails the years not yet loaded. An interrupt
    (Ctrl-C) is returned beside the outcomes of the years before it."""
    outcomes: list[tuple[int, PartitionResult | AtpError]] = []
    stop: AtpError | None = None
    interrupted: BaseException | None = None
    try:
        for year, outcome in load_years(settings, flow, years, source, budget=budget):
            outcomes.append((year, outcome))
            if isinstance(outcome, _STOP_AT_ONCE):
                context.log.error(
                    f"{flow}: stopping at {year}, this error would repeat for every year"
                )
                stop = outcome
                break
    except AtpError as exc:  # e.g. the warehouse is busy: no year can load
        stop = exc
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
    }
