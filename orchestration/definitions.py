"""The code location: every asset, check, job, schedule and resource meets here (see
workspace.yaml). Dagster loads `defs` lazily; the CLI and tests call `build_definitions`."""

from __future__ import annotations

import dagster as dg

from ingest.settings import Settings
from orchestration.alerting import alert_on_run_failure, alert_on_stale_data
from orchestration.dbt_assets import atp_dbt_models
from orchestration.dbt_project import dbt_resource
from orchestration.publish_asset import html_report, published_warehouse, release_digest
from orchestration.raw_assets import RAW_GROUP, build_raw_assets
from orchestration.resources import warehouse_resource
from orchestration.schedules import build_refresh_schedule

PIPELINE_JOB = "atp_pipeline_job"


def build_definitions(settings: Settings) -> dg.Definitions:
    raw_census_job = dg.define_asset_job(
        "raw_census_job",
        selection=dg.AssetSelection.groups(RAW_GROUP),
        description="Fetch, land and load one year of Census ATP imports and exports.",
    )
    pipeline_job = dg.define_asset_job(
        PIPELINE_JOB,
        selection=(
            dg.AssetSelection.groups(RAW_GROUP)
            | dg.AssetSelection.assets(atp_dbt_models)
            | dg.AssetSelection.assets(published_warehouse, html_report, release_digest)
        ),
        description=(
            "The main job (`make run`, `make refresh`, the nightly schedule): load the selected "
            "year partitions of both raw tables in one step each, dbt build every model and "
            "test, then publish the marts and the HTML report for analysts."
        ),
    )
    dbt_build_job = dg.define_asset_job(
        "dbt_build_job",
        selection=dg.AssetSelection.assets(atp_dbt_models),
        description="dbt build: staging, intermediate and marts, with every dbt test.",
    )
    return dg.Definitions(
        assets=[
            build_raw_assets(settings.start_year),
            atp_dbt_models,
            published_warehouse,
            html_report,
            release_digest,
        ],
        jobs=[pipeline_job, raw_census_job, dbt_build_job],
        schedules=[build_refresh_schedule(pipeline_job, settings.refresh_cron)],
        sensors=[alert_on_run_failure, alert_on_stale_data],
        # Every step runs in the run's own process (one writer at a time, so nothing to gain
        # from a process per step): a killed run worker takes its steps with it.
        executor=dg.in_process_executor,
        resources={
            "dbt": dbt_resource(),
            "settings": settings,
            "warehouse": warehouse_resource(settings),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    # The dbt manifest is prepared before this module loads (`make prepare`, `atp prepare`).
    return build_definitions(Settings.from_env())
