"""Release awareness: warn (never fail a run) when the warehouse is behind Census's calendar."""

from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.census_format import FLOWS
from ingest.locking import writer_lock
from ingest.releases import release_status
from ingest.settings import census_today
from orchestration.raw_assets import raw_asset_key
from orchestration.resources import AtpSettings

CHECK_NAME = "census_release_is_current"


@dg.multi_asset_check(
    name=CHECK_NAME,
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=raw_asset_key(flow),
            blocking=False,
            description=(
                "Warns when the newest month in the warehouse is older than the newest month "
                "Census should have published (month end + ATP_RELEASE_LAG_DAYS, default 40 "
                "days)."
            ),
        )
        for flow in FLOWS
    ],
    can_subset=True,
)
def release_check(
    context: dg.AssetCheckExecutionContext, settings: AtpSettings, warehouse: DuckDBResource
) -> Iterator[dg.AssetCheckResult]:
    # One status for both raw tables: the newest month held is the one present in both flows.
    config = settings.settings
    # DuckDB allows one process at a time to open the file for writing: wait for the writer.
    with writer_lock(config.warehouse), warehouse.get_connection() as con:
        status = release_status(con, census_today(), config.release_lag_days)
    for check_key in context.selected_asset_check_keys:
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=not status.behind,
            severity=dg.AssetCheckSeverity.WARN,
            description=status.describe(),
            metadata={
                "newest_month_held": status.newest_held or "",
                "newest_month_due": status.newest_due,
                "release_lag_days": dg.MetadataValue.int(status.lag_days),
            },
        )
