"""Release awareness: warn (never fail a run) when the warehouse is behind Census's calendar.

Evaluated by the raw step itself, after its loads: so every run says it, including a run that
finds nothing new (the very case where a release has slipped)."""

from collections.abc import Iterator

import dagster as dg

from ingest.datasets import FLOWS
from ingest.releases import ReleaseStatus

CHECK_NAME = "census_release_is_current"


def release_check_specs(asset_key) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=asset_key(flow),
            blocking=False,
            description=(
                "Warns when the newest month in the warehouse is older than the newest month "
                "Census should have published (month end + ATP_RELEASE_LAG_DAYS, default 40 "
                "days)."
            ),
        )
        for flow in FLOWS
    ]


def release_check_results(status: ReleaseStatus, asset_key) -> Iterator[dg.AssetCheckResult]:
    # One status for both raw tables: the newest month held is the one present in both flows.
    for flow in FLOWS:
        yield dg.AssetCheckResult(
            asset_key=asset_key(flow),
            check_name=CHECK_NAME,
            passed=not status.behind,
            severity=dg.AssetCheckSeverity.WARN,
            description=status.describe(),
            metadata={
                "newest_month_held": status.newest_held or "",
                "newest_month_due": status.newest_due,
                "release_lag_days": dg.MetadataValue.int(status.lag_days),
            },
        )
