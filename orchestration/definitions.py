"""The code location: every asset, check, job and resource meets here (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from ingest.settings import Settings
from orchestration.dbt_assets import atp_dbt_models, dbt_resource
from orchestration.publish_asset import html_report, published_warehouse
from orchestration.raw_assets import RAW_GROUP, build_raw_assets
from orchestration.release_checks import release_checks
from orchestration.schedules import build_refresh_schedule

settings = Settings.from_env()
raw_assets = build_raw_assets(settings.start_year)

raw_census_job = dg.define_asset_job(
    "raw_census_job",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description="Fetch, land and load one year of Census ATP imports and exports.",
)
atp_pipeline_job = dg.define_asset_job(
    "atp_pipeline_job",
    selection=(
        dg.AssetSelection.groups(RAW_GROUP)
        | dg.AssetSelection.assets(atp_dbt_models)
        | dg.AssetSelection.assets(published_warehouse, html_report)
    ),
    description=(
        "The main job (`make run`, `make refresh`, the nightly schedule): load the selected year "
        "partitions of both raw tables in one step each, dbt build every model and test, then "
        "publish the marts and the HTML report for analysts."
    ),
)
dbt_build_job = dg.define_asset_job(
    "dbt_build_job",
    selection=dg.AssetSelection.assets(atp_dbt_models),
    description="dbt build: staging, intermediate and marts, with every dbt test.",
)

defs = dg.Definitions(
    assets=[*raw_assets, atp_dbt_models, published_warehouse, html_report],
    asset_checks=release_checks,
    jobs=[atp_pipeline_job, raw_census_job, dbt_build_job],
    schedules=[
        build_refresh_schedule(atp_pipeline_job, settings.refresh_cron, settings.start_year)
    ],
    resources={"dbt": dbt_resource()},
)
