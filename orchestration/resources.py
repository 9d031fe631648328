"""The project's settings as Dagster resources: built once, from `Settings.from_env()`, where the
definitions are built, and handed to every asset, check and the schedule as parameters."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.settings import Settings
from ingest.warehouse import DUCKDB_CONFIG

KEY_VARIABLE = "CENSUS_API_KEY"


class AtpSettings(dg.ConfigurableResource):
    """Paths, the API's base URL, the release lag and the disk floor (see the README's
    configuration table). The API key is a secret: an `EnvVar`, so its value never enters run
    config, tags, metadata or the UI, only the running process."""

    base_url: str
    api_key: str | None = None
    warehouse: str
    landing_dir: str
    published: str
    report_dir: str
    start_year: int
    release_lag_days: int
    refresh_cron: str
    min_free_mb: int
    demo: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> AtpSettings:
        return cls(
            base_url=settings.base_url,
            # Only when set: an EnvVar that is not set fails the resource, and a rebuild from
            # the landing zone or the UI without a key must still work.
            api_key=dg.EnvVar(KEY_VARIABLE) if settings.api_key else None,
            warehouse=str(settings.warehouse),
            landing_dir=str(settings.landing_dir),
            published=str(settings.published),
            report_dir=str(settings.report_dir),
            start_year=settings.start_year,
            release_lag_days=settings.release_lag_days,
            refresh_cron=settings.refresh_cron,
            min_free_mb=settings.min_free_mb,
            demo=settings.demo,
        )

    @property
    def settings(self) -> Settings:
        """The plain settings object that `ingest/` takes."""
        return Settings(
            base_url=self.base_url,
            api_key=(self.api_key or "").strip() or None,
            warehouse=Path(self.warehouse),
            landing_dir=Path(self.landing_dir),
            published=Path(self.published),
            report_dir=Path(self.report_dir),
            start_year=self.start_year,
            release_lag_days=self.release_lag_days,
            refresh_cron=self.refresh_cron,
            min_free_mb=self.min_free_mb,
            demo=self.demo,
        )


def warehouse_resource(settings: Settings) -> DuckDBResource:
    """The working warehouse, for the steps that read it once dbt has exited."""
    return DuckDBResource(database=str(settings.warehouse), connection_config=DUCKDB_CONFIG)
