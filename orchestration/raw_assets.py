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

from ingest.census_format import FLOWS
from ingest.client import RetryBudget
from ingest.errors import AtpError, CensusAuthError, ConfigError
from ingest.freshness import read_freshness, record_check
from ingest.locking import writer_lock
from ingest.partitions import PartitionResult, load_years
from ingest.preflight import check_paths
from ingest.releases import release_status
from ingest.settings import census_today
from orchestration.alerting import alert_release
from orchestration.asset_policies import OWNERS, RAW_FRESHNESS
from orchestration.release_checks import release_check_results, release_check_specs
from orchestration.resources import AtpSettings
from orchestration.tags import tag_outcome

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
    accept_fewer_months: bool = False
    """Take an answer that lacks months already held (a release that slipped, a partial
    answer); otherwise such a year is kept as stored, with a warning naming the months."""
    warehouse: str | None = None
    """The warehouse file the run was started for (`atp` sets it when it queues a run): the run
    refuses to start if its own settings write another."""


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
            owners=OWNERS,
            freshness_policy=RAW_FRESHNESS,
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
            owners=OWNERS,
            freshness_policy=RAW_FRESHNESS,
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
        _check_warehouse(config.warehouse, config_settings.warehouse)
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
                    context, config_settings, flow, years, config, budget
                )
                if interrupted:
                    break
            loaded, failed = _split(context, outcomes)
            if not (failed or interrupted):  # (a busy file would only make this wait)
                with warehouse.get_connection() as con:
                    status = release_status(con, census_today(), config_settings.release_lag_days)
        if failed or interrupted:
            # The step fails: record by hand the years that did change before saying so.
            # Yielded, not logged: events logged by a step that then raises are lost.
            for (flow, key), result in loaded.items():
                if result.changed:
                    for asset_key in (raw_asset_key(flow), history_asset_key(flow)):
                        yield dg.AssetMaterialization(
                            asset_key, partition=key, metadata=partition_metadata(result)
                        )
            tag_outcome(context, "failed")
            if interrupted:
                raise interrupted
            raise PartitionsFailed(_failure_summary(years, loaded, failed))
        changed = any(result.changed for result in loaded.values())
        before = read_freshness(config_settings.published)
        record_check(
            config_settings.published, checked_at, changed=changed, newest_month=status.newest_held
        )
        tag_outcome(context, "changed" if changed else "unchanged")
        for line in alert_release(config_settings, status):
            context.log.info(line)
        yield from release_check_results(status, raw_asset_key)
        released = {key: r for key, r in loaded.items() if r.status == "loaded"}
        if not released:
            # No year has data yet (204): nothing to show as materialized, nothing to build.
            context.log.info("no year of this run is released yet; nothing to build")
            for (flow, key), result in loaded.items():
                context.log_event(
                    dg.AssetObservation(
                        raw_asset_key(flow), partition=key, metadata=partition_metadata(result)
                    )
                )
            return
        if not changed:
            since = before.last_changed.strftime("%Y-%m-%d") if before.last_changed else "-"
            context.log.info(f"nothing new since {since}: every year as stored")
        # Every year is materialized, changed or not (its metadata says which), so that
        # backfills and "Materialize" succeed in Dagster's terms; the dbt step decides whether
        # a build is due (DbtBuildConfig.only_if_changed).
        for (flow, key), result in loaded.items():
            context.add_asset_metadata(
                partition_metadata(result), asset_key=raw_asset_key(flow), partition_key=key
            )
        for flow in FLOWS:
            yield dg.MaterializeResult(asset_key=raw_asset_key(flow))
            yield dg.MaterializeResult(asset_key=history_asset_key(flow))

    return raw_census


def _check_warehouse(asked: str | None, own: Path) -> None:
    if asked is not None and Path(asked).resolve() != own.resolve():
        raise ConfigError(
            f"this run was queued for the warehouse {asked}, but the Dagster daemon's settings "
            f"write {own}: run `atp` with --no-queue to load {asked} in its own process"
        )


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
                if outcome.dropped_months:
                    context.log.warning(outcome.dropped_warning())
    return loaded, failed


def _failure_summary(years, loaded, failed) -> str:
    """Per flow with a failure: '2 of 3 year(s) loaded: 2024, 2025; failed:', then each reason
    once, with the years it stopped ('imports 2025, 2026: the Census API ...')."""
    lines = []
    said: dict[str, str] = {}  # each reason, once: where it was first given
    for flow, errors in failed.items():
        done = [key for (f, key), result in loaded.items() if f == flow]
        listed = f": {', '.join(done)}" if done else ""
        lines.append(f"{flow}: {len(done)} of {len(years)} year(s) loaded{listed}; failed:")
        by_reason: dict[str, list[str]] = {}
        for year, reason in errors.items():
            # A year stopped by an earlier year's error carries that error's text: name that
            # year rather than repeat its message (a bad key's advice would show once per year).
            first = next((y for y in errors if y != year and reason.startswith(f"{flow} {y}: ")), 0)
            if first:
                reason = f"not attempted: the error of {flow} {first} would repeat for every year"
            by_reason.setdefault(reason, []).append(str(year))
        for reason, ys in by_reason.items():
            where = f"{flow} {', '.join(ys)}"
            lines.append(
                f"{where}: the same as {said[reason]}" if reason in said else f"{where}: {reason}"
            )
            said.setdefault(reason, where)
    return "\n".join(lines)


def _load_all(context, settings, flow, years, config: RawLoadConfig, budget):
    """Every year's outcome, in order, so that each year ends either loaded or failed with its
    reason. An error that would repeat for every year (a bad key, a bad setting) fails the
    remaining years at once; an unexpected error fails the years not yet loaded. An interrupt
    (Ctrl-C) is returned beside the outcomes of the years before it."""
    outcomes: list[tuple[int, PartitionResult | AtpError]] = []
    stop: AtpError | None = None
    interrupted: BaseException | None = None
    loads = load_years(
        settings,
        flow,
        years,
        config.source,
        budget=budget,
        accept_fewer_months=config.accept_fewer_months,
    )
    try:
        # Each year commits as the loop asks for it: ask only while the run is in progress.
        while still_in_progress(context) and (item := next(loads, None)) is not None:
            year, outcome = item
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
    finally:
        loads.close()  # the warehouse connection and the fetch in flight end here
    done = {year for year, _ in outcomes}
    return outcomes + [(year, stop) for year in years if year not in done and stop], interrupted


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
    }
