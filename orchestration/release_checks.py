"""Release awareness: warn (never fail a run) when the warehouse is behind Census's calendar."""

from datetime import date

import dagster as dg

from ingest.census_format import FLOWS
from ingest.locking import writer_lock
from ingest.releases import release_status
from ingest.settings import Settings
from orchestration.raw_assets import raw_asset_key


def build_release_check(flow: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=raw_asset_key(flow),
        name="census_release_is_current",
        blocking=False,
        description=(
            "Warns when the newest month in the warehouse is older than the newest month Census "
            "should have published (month end + ATP_RELEASE_LAG_DAYS, default 40 days)."
        ),
    )
    def _check() -> dg.AssetCheckResult:
        settings = Settings.from_env()
        # Even a read-only open fails while another process writes: wait for the writer.
        with writer_lock(settings.warehouse):
            status = release_status(settings.warehouse, date.today(), settings.release_lag_days)
        return dg.AssetCheckResult(
            passed=not status.behind,
            severity=dg.AssetCheckSeverity.WARN,
            description=status.describe(),
            metadata={
                "newest_month_held": status.newest_held or "",
                "newest_month_due": status.newest_due,
                "release_lag_days": dg.MetadataValue.int(status.lag_days),
            },
        )

    return _check


release_checks = [build_release_check(flow) for flow in FLOWS]
