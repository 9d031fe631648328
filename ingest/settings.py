"""Configuration from environment variables (see the table in docs/operations.md#configuration)."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ingest.errors import ConfigError

DEFAULT_BASE_URL = "https://api.census.gov/data/timeseries/intltrade"
# The ATP code lists (impatpYY.txt, expatpYY.txt): plain files on census.gov, no key.
DEFAULT_ATP_CODES_BASE_URL = "https://www.census.gov/foreign-trade/reference/codes/atp"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_PUBLISHED = "data/atp.duckdb"
DEFAULT_REPORT_DIR = "data/report"
DEFAULT_START_YEAR = 2013
# Census releases and the nightly schedule keep Washington time.
CENSUS_TIMEZONE = "America/New_York"
# Census publishes a month about five weeks after it ends; allow 40 days before calling it late.
DEFAULT_RELEASE_LAG_DAYS = 40
# 06:00 in America/New_York, after the 8:30 a.m. ET releases of the day before have landed.
DEFAULT_REFRESH_CRON = "0 6 * * *"
# Refuse to load or publish with less free disk space than this (on top of the expected size).
DEFAULT_MIN_FREE_MB = 200
# `atp sql` stops a query after this long (a cross join would run for ever); 0: no limit.
DEFAULT_SQL_TIMEOUT_SECONDS = 60
# The monthly intltrade datasets start in January 2010.
EARLIEST_YEAR = 2010

KEY_HELP = (
    "Get a free key at https://api.census.gov/data/key_signup.html (it is activated by an e-mail "
    "link), then `export CENSUS_API_KEY=<your 40-character key>`. To try everything first, "
    "without a key or network: `make demo`."
)


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_key: str | None = field(repr=False)  # a secret: never in a repr, a log or an error
    warehouse: Path
    landing_dir: Path
    start_year: int
    published: Path
    report_dir: Path
    release_lag_days: int
    refresh_cron: str
    min_free_mb: int
    # Data from the bundled demo API (`make demo`): every output says it is not Census data.
    demo: bool = False
    # `atp run|refresh|rebuild` also print dbt's own progress lines (ATP_VERBOSE=1 or -v).
    verbose: bool = False
    sql_timeout_seconds: int = DEFAULT_SQL_TIMEOUT_SECONDS  # ATP_SQL_TIMEOUT_SECONDS, 0: none
    # Alerts (ingest/alerts.py): an incoming webhook and/or e-mail; none set = no alerts.
    # Secrets (a Slack URL carries a token): kept out of the repr.
    alert_webhook_url: str | None = field(default=None, repr=False)
    alert_email_to: tuple[str, ...] = ()
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    alert_email_from: str = ""  # empty: atp-warehouse@<hostname>
    atp_codes_base_url: str = DEFAULT_ATP_CODES_BASE_URL  # CENSUS_ATP_CODES_BASE_URL
    # Product detail (the hs dataset and the ATP code lists): ATP_PRODUCTS=0 leaves it out.
    products: bool = True
    max_concurrent_requests: int = 4  # ATP_MAX_CONCURRENT_REQUESTS: in flight at once, per run

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            base_url=(env.get("CENSUS_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            api_key=(env.get("CENSUS_API_KEY") or "").strip() or None,
            warehouse=warehouse_path(env),
            landing_dir=_landing_dir(env.get("ATP_LANDING_DIR") or DEFAULT_LANDING_DIR),
            start_year=_start_year(env.get("ATP_START_YEAR")),
            published=published_path(env),
            report_dir=_path(env.get("ATP_REPORT_DIR") or DEFAULT_REPORT_DIR),
            release_lag_days=_whole_number(
                env, "ATP_RELEASE_LAG_DAYS", DEFAULT_RELEASE_LAG_DAYS, 0, 366
            ),
            refresh_cron=_cron(env.get("ATP_REFRESH_CRON") or DEFAULT_REFRESH_CRON),
            min_free_mb=_whole_number(env, "ATP_MIN_FREE_MB", DEFAULT_MIN_FREE_MB, 0, 10**7),
            demo=_flag(env, "ATP_DEMO"),
            verbose=_flag(env, "ATP_VERBOSE"),
            sql_timeout_seconds=_whole_number(
                env, "ATP_SQL_TIMEOUT_SECONDS", DEFAULT_SQL_TIMEOUT_SECONDS, 0, 10**6
            ),
            **_alert_settings(env),
            atp_codes_base_url=(
                env.get("CENSUS_ATP_CODES_BASE_URL") or DEFAULT_ATP_CODES_BASE_URL
            ).rstrip("/"),
            products=(env.get("ATP_PRODUCTS") or "1").strip().lower() not in ("0", "false", "no"),
            max_concurrent_requests=_whole_number(env, "ATP_MAX_CONCURRENT_REQUESTS", 4, 1, 16),
        )

    def require_api_key(self) -> str:
        if not self.api_key:
            raise ConfigError(
                f"CENSUS_API_KEY is not set: the Census API requires a key. {KEY_HELP}"
            )
        return self.api_key

    def years(self, today: date | None = None) -> list[int]:
        """Every year worth fetching: ATP_START_YEAR through the year of the newest month due
        (the current year once its January is due)."""
        from ingest.releases import due_year  # it loads DuckDB, which `atp --help` need not

        last = due_year(today or census_today(), self.release_lag_days)
        return list(range(self.start_year, max(last, self.start_year) + 1))


def census_today(now: datetime | None = None) -> date:
    """Today's date where Census and the nightly schedule keep time (America/New_York): the
    one clock for choosing years and months due, whatever the machine's time zone.

    ATP_TODAY=YYYY-MM-DD pins it (when `now` is not given): the test suite pins it so that its
    fixed data is never "behind" on a later day, and an operator can ask what the refresh would
    fetch on another day (`ATP_TODAY=2027-06-05 atp refresh`)."""
    if now is None and (pinned := os.environ.get("ATP_TODAY", "").strip()):
        try:
            return date.fromisoformat(pinned)
        except ValueError:
            raise ConfigError(
                f"ATP_TODAY={pinned!r} is not a date: set it as YYYY-MM-DD (e.g. 2026-11-30), "
                "or unset it to use today's date."
            ) from None
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(CENSUS_TIMEZONE)).date()


def warehouse_path(env: Mapping[str, str] | None = None) -> Path:
    """ATP_WAREHOUSE as every command resolves it (`make prepare` hands it to dbt)."""
    env = os.environ if env is None else env
    return _path(env.get("ATP_WAREHOUSE") or DEFAULT_WAREHOUSE)


def published_path(env: Mapping[str, str] | None = None) -> Path:
    """ATP_PUBLISHED as every command resolves it (notebooks read it through `analyst.frame`)."""
    env = os.environ if env is None else env
    return _path(env.get("ATP_PUBLISHED") or DEFAULT_PUBLISHED)


def _path(value: str) -> Path:
    # Absolute, so that dbt (which runs in dbt_project/) and Python agree on the same file.
    return Path(value).expanduser().resolve()


def _landing_dir(value: str) -> Path:
    path = _path(value)
    # DuckDB reads landed files by name, and its file names are patterns: *, ? and [ would match
    # other files.
    if any(char in str(path) for char in "*?["):
        raise ConfigError(
            f"ATP_LANDING_DIR={value!r}: the landing zone's path must not contain *, ? or [ "
            "(DuckDB reads the landed files by a name that may be a pattern). Choose another folder."
        )
    return path


def _start_year(value: str | None) -> int:
    if value is None or not value.strip():
        return DEFAULT_START_YEAR
    this_year = census_today().year
    try:
        year = int(value)
    except ValueError:
        year = -1
    if not EARLIEST_YEAR <= year <= this_year:
        raise ConfigError(
            f"ATP_START_YEAR={value!r} is not a year from {EARLIEST_YEAR} (the first year the Census "
            f"API publishes) to {this_year}. Set it to a four-digit year, e.g. ATP_START_YEAR=2013."
        )
    return year


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name}={value!r} is not a whole number from {low} to {high}.")
    return int(value)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes")


def _cron(value: str) -> str:
    fields = value.split()
    if " ".join(fields) == DEFAULT_REFRESH_CRON:
        return DEFAULT_REFRESH_CRON
    from croniter import croniter  # only for a cron of one's own: `atp report` starts fast

    if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
        raise ConfigError(
            f"ATP_REFRESH_CRON={value!r} is not a cron schedule of five fields "
            "(minute hour day month weekday), e.g. '0 6 * * *' for 06:00 every day."
        )
    return " ".join(fields)


def path_settings(settings: Settings) -> list[tuple[str, Path, str]]:
    """The paths a run writes, each with the variable that sets it and what it must be: a
    "file" (written in place, beside its lock file), a "replaced" file (a new file renamed over
    it, so only its folder is written) or a "folder"."""
    return [
        ("ATP_WAREHOUSE", settings.warehouse, "file"),
        ("ATP_LANDING_DIR", settings.landing_dir, "folder"),
        ("ATP_PUBLISHED", settings.published, "replaced"),
        ("ATP_REPORT_DIR", settings.report_dir, "folder"),
    ]


def _alert_settings(env: Mapping[str, str]) -> dict:
    """ATP_ALERT_* and ATP_SMTP_*: where `ingest.alerts.send` tells people."""
    to = tuple(a.strip() for a in (env.get("ATP_ALERT_EMAIL_TO") or "").split(",") if a.strip())
    for address in to:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
            raise ConfigError(
                f"ATP_ALERT_EMAIL_TO: {address!r} is not an e-mail address; give addresses "
                "separated by commas, e.g. ATP_ALERT_EMAIL_TO=ops@example.org,me@example.org."
            )
    return {
        "alert_webhook_url": _webhook_url(env.get("ATP_ALERT_WEBHOOK_URL")),
        "alert_email_to": to,
        "smtp_host": (env.get("ATP_SMTP_HOST") or "").strip() or "localhost",
        "smtp_port": _whole_number(env, "ATP_SMTP_PORT", 25, 1, 65535),
        "smtp_user": (env.get("ATP_SMTP_USER") or "").strip() or None,
        "smtp_password": env.get("ATP_SMTP_PASSWORD") or None,
        "smtp_starttls": _flag(env, "ATP_SMTP_STARTTLS"),
        "alert_email_from": (env.get("ATP_ALERT_EMAIL_FROM") or "").strip() or default_email_from(),
    }


def default_email_from() -> str:
    return f"atp-warehouse@{socket.gethostname() or 'localhost'}"


def _webhook_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        # The URL itself is a secret (a Slack URL carries a token): the message never shows it.
        raise ConfigError(
            "ATP_ALERT_WEBHOOK_URL is not an http(s) URL: set it to the incoming webhook's "
            "https://... address (Slack, Mattermost, Teams), or unset it for no webhook alerts."
        )
    return url
