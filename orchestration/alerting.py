"""Telling people, from Dagster: a failed run (from the schedule, the UI or `atp`), a release
that is late, and the release digest after a publication that changed the data. The channels and
the one-message-per-incident rule live in `ingest.alerts`; this module says what and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from analyst.digest import digest, render, write_digest
from ingest.alerts import resolve, send
from ingest.freshness import read_freshness, stale_after, stale_reason
from ingest.releases import ReleaseStatus
from ingest.settings import Settings
from orchestration.tags import COMMAND_TAG, OUTCOME_TAG

RELEASE_LATE = "release-late:"
STALE = "stale:"
RUN_FAILED = "run-failed:"
_STARTED_BY = {
    "run": "`atp run`",
    "refresh": "`atp refresh`",
    "rebuild": "`atp rebuild`",
    "schedule": "the nightly refresh",
}


def alert_run_failed(
    settings: Settings, run_id: str, job: str, command: str | None, reason: str
) -> list[str]:
    """One alert per failed run, whoever notices it first (the sensor or the `atp` command)."""
    what = _STARTED_BY.get(command or "", "a launch from the UI")
    subject = f"atp-warehouse: run {run_id[:8]} ({what}, {job}) failed"
    text = (
        f"{reason.strip()}\n\nThe published copy is unchanged. See the run in the Dagster UI "
        f"(Runs, {run_id}); fix the cause and run again (`atp refresh`, or relaunch the run)."
    )
    return send(settings, subject, text, incident=RUN_FAILED + run_id, state_dir=_state(settings))


def alert_release(settings: Settings, status: ReleaseStatus) -> list[str]:
    """A late release alerts once per month due; once it is in, the incident is closed."""
    if not status.behind:
        resolve(_state(settings), RELEASE_LATE)
        return []
    return send(
        settings,
        f"atp-warehouse: Census release late, holds {status.newest_held or 'nothing'}",
        status.describe(),
        incident=RELEASE_LATE + status.newest_due,
        state_dir=_state(settings),
    )


def alert_stale(settings: Settings, reason: str | None, published: datetime | None) -> list[str]:
    """Data that stopped being current alerts once per stall, keyed by the last publication
    (which a stall does not move); once the data is current again, the incident is closed."""
    if reason is None:
        resolve(_state(settings), STALE)
        return []
    return send(
        settings,
        "atp-warehouse: the data stopped being current",
        reason,
        incident=f"{STALE}{published.isoformat() if published else 'never published'}",
        state_dir=_state(settings),
    )


@dg.sensor(
    name="alert_on_stale_data",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Hourly: alerts once when no run has checked the Census API for two refresh intervals, "
        "or the published copy has been behind as long (see ingest.freshness.stale_reason)."
    ),
)
def alert_on_stale_data(context: dg.SensorEvaluationContext, settings: dg.ResourceParam[Settings]):
    freshness = read_freshness(settings.published)
    reason = stale_reason(freshness, datetime.now(UTC), stale_after(settings.refresh_cron))
    for line in alert_stale(settings, reason, freshness.last_published):
        context.log.info(line)
    if freshness.last_checked is None:
        return dg.SkipReason("no run has checked the Census API yet: nothing to be stale")
    return dg.SkipReason(reason or "the data is current")


def write_and_post_digest(settings: Settings, log: Callable[[str], None]) -> list[str]:
    """Write the release digest beside the published copy; post it when months arrived or were
    revised (a publication that changed nothing posts nothing)."""
    found = digest(settings)
    paths = write_digest(settings)
    lines = [f"wrote the release digest {paths[0]}"]
    if found.changes:
        lines += send(
            settings,
            found.subject,
            render(found, "text"),
            incident=f"digest:{found.published.get('published_at')}",
            state_dir=_state(settings),
        )
    for line in lines:
        log(line)
    return lines


def _state(settings: Settings):
    return settings.published.parent


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    monitor_all_code_locations=False,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Posts one alert per failed run (webhook ATP_ALERT_WEBHOOK_URL, e-mail "
        "ATP_ALERT_EMAIL_TO) and tags the run atp/outcome=failed."
    ),
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, settings: dg.ResourceParam[Settings]):
    run = context.dagster_run
    context.instance.add_run_tags(run.run_id, {OUTCOME_TAG: "failed"})
    # A retry of a failed run (run_retries) is the same incident as the run it retries.
    incident = run.tags.get("dagster/root_run_id", run.run_id)
    # What failed, in each step's own words; a run killed outside its steps has only the run's.
    failures = [
        (event.step_key, event.step_failure_data.error)
        for event in context.get_step_failure_events()
        if event.step_failure_data and event.step_failure_data.error
    ]
    reason = failure_text(failures) or _last_engine_word(context)
    for line in alert_run_failed(
        settings, incident, run.job_name, run.tags.get(COMMAND_TAG), reason
    ):
        context.log.info(line)


def _last_engine_word(context: dg.RunFailureSensorContext) -> str:
    """Why a run failed outside its steps (its worker killed, say): the last engine event that
    says so, rather than Dagster's "marked as failed from outside the execution context"."""
    records = context.instance.all_logs(
        context.dagster_run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT
    )
    words = [r.message for r in records if r.message and "Started" not in r.message]
    return (words[-1] if words else context.failure_event.message) or "the run failed"


def failure_text(failures) -> str:
    """What failed, each (step, error) in the step's own words."""
    return "\n".join(f"{step}: {error_message(error)}" for step, error in failures)


def error_message(error) -> str:
    """What a step raised, in its own words: Dagster wraps the exception an asset raised, and the
    innermost one says what went wrong."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip() or error.cls_name
    prefix, _, rest = message.partition(": ")
    return rest if prefix.split(".")[-1] == error.cls_name else message
