"""The code location: every asset, check, job and resource meets here (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from ingest.settings import Settings
from orchestration.dbt_assets import atp_dbt_models, dbt_resource
from orchestration.raw_assets import RAW_GROUP, build_raw_assets

settings = Settings.from_env()
raw_assets = build_raw_assets(settings.start_year)

raw_census_job = dg.define_asset_job(
    "raw_census_job",
    selection=dg.AssetSelection.groups(RAW_GROUP),
    description="Fetch, land and load one year of Census ATP imports and exports.",
)
atp_pipeline_job = dg.define_asset_job(
    "atp_pipeline_job",
    selection=dg.AssetSelection.groups(RAW_GROUP) | dg.AssetSelection.assets(atp_dbt_models),
    description=(
        "The main job (`make run`): load the selected year partitions of both raw tables in one "
        "step each, then dbt build every model and test."
    ),
)
dbt_build_job = dg.define_asset_job(
    "dbt_build_job",
    selection=dg.AssetSelection.assets(atp_dbt_models),
    description="dbt build: staging, intermediate and marts, with every dbt test.",
)

defs = dg.Definitions(
    assets=[*raw_assets, atp_dbt_models],
    jobs=[atp_pipeline_job, raw_census_job, dbt_build_job],
    resources={"dbt": dbt_resource()},
)
