"""The project's settings as Dagster resources: built once, from `Settings.from_env()`, where the
definitions are built, and handed to every asset, check and the schedule as parameters."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingest.settings import DEFAULT_ATP_CODES_BASE_URL, Settings
from ingest.warehouse import DUCKDB_CONFIG

KEY_VARIABLE = "CENSUS_API_KEY"
_PATHS = ("warehouse", "landing_dir", "published", "report_dir")
# Settings whose values stay out of run config and the UI: read from the environment by Dagster.
_SECRETS = {
    "api_key": KEY_VARIABLE,
    "alert_webhook_url": "ATP_ALERT_WEBHOOK_URL",
    "smtp_password": "ATP_SMTP_PASSWORD",
}


class AtpSettings(dg.ConfigurableResource):
    """Paths, the API's base URL, the release lag and the disk floor (see docs/operations.md's
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
    # Where alerts and the release digest go (ingest/alerts.py); the webhook URL (it carries a
    # token) and the SMTP password are secrets, EnvVars like the key.
    alert_webhook_url: str | None = None
    alert_email_to: list[str] = []
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    alert_email_from: str = ""
    # Product detail (the hs dataset) and where the ATP code lists are.
    atp_codes_base_url: str = DEFAULT_ATP_CODES_BASE_URL
    products: bool = True
    max_concurrent_requests: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> AtpSettings:
        values = {name: getattr(settings, name) for name in cls.model_fields}
        values.update({name: str(values[name]) for name in _PATHS})
        values["alert_email_to"] = list(settings.alert_email_to)
        # Only when set: an EnvVar that is not set fails the resource, and a rebuild from the
        # landing zone or the UI without a key must still work.
        for name, variable in _SECRETS.items():
            values[name] = dg.EnvVar(variable) if getattr(settings, name) else None
        return cls(**values)

    @property
    def settings(self) -> Settings:
        """The plain settings object that `ingest/` takes."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values.update({name: Path(values[name]) for name in _PATHS})
        values["alert_email_to"] = tuple(self.alert_email_to)
        values["api_key"] = (self.api_key or "").strip() or None
        return Settings(**values)


def warehouse_resource(settings: Settings) -> DuckDBResource:
    """The working warehouse, for the steps that read it once dbt has exited."""
    return DuckDBResource(database=str(settings.warehouse), connection_config=DUCKDB_CONFIG)
