"""The nightly refresh: every year partition that can still change, then dbt, then publish."""

from datetime import date
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from ingest.releases import due_year
from ingest.settings import CENSUS_TIMEZONE, Settings
from orchestration.dbt_assets import DBT_STEP
from orchestration.tags import COMMAND_TAG

# Census publishes its annual revision of the prior years with the April data, in early June.
ANNUAL_REVISION_MONTHS = (6, 7)
ANNUAL_REVISION_YEARS = 3


def refresh_years(today: date, start_year: int, lag_days: int) -> list[int]:
    """The years that can still change on `today`: the previous year (in January and February
    its last months are still being released; later, late documents) through the year of the
    newest month due (a year none of whose months is due yet would only answer 204), and in
    June and July the three years before that too (the annual revision)."""
    first = today.year - 1
    if today.month in ANNUAL_REVISION_MONTHS:
        first -= ANNUAL_REVISION_YEARS
    return list(range(max(first, start_year), due_year(today, lag_days) + 1))


def partition_range_tags(years: list[int]) -> dict[str, str]:
    return {
        ASSET_PARTITION_RANGE_START_TAG: str(years[0]),
        ASSET_PARTITION_RANGE_END_TAG: str(years[-1]),
    }


def build_refresh_schedule(job, cron: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_refresh",
        job=job,
        cron_schedule=cron,
        execution_timezone=CENSUS_TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Refreshes the year partitions that can still change (see refresh_years), rebuilds "
            "the dbt models and publishes the marts, in one run. ATP_REFRESH_CRON sets the time."
        ),
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, settings: dg.ResourceParam[Settings]
    ) -> dg.RunRequest:
        when = context.scheduled_execution_time.astimezone(ZoneInfo(CENSUS_TIMEZONE))
        today = when.date()
        years = refresh_years(today, settings.start_year, settings.release_lag_days)
        return dg.RunRequest(
            # One run per scheduled time (a cron of one's own may tick more than once a day).
            run_key=f"refresh-{when:%Y-%m-%dT%H:%M}",
            tags={
                **partition_range_tags(years),
                "atp/refresh_years": f"{years[0]}-{years[-1]}",
                COMMAND_TAG: "schedule",
                # Retried twice (run_retries in dagster.yaml): a blip of the API at 06:00.
                "dagster/max_retries": "2",
            },
            # A night with nothing new builds and publishes nothing (unless a build is due).
            run_config={"ops": {DBT_STEP: {"config": {"only_if_changed": True}}}},
        )

    return _schedule
