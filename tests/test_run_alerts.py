"""What a command-line run tells people, without a daemon: the release digest after a change,
nothing after a quiet night, one alert per failed run and one per late release (not one every
night), never the key or the webhook's token."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from fake_census import FixtureDataset
from orchestration.runner import run_pipeline
from tests.conftest import SENTINEL_KEY

YEARS = [2025, 2026]


class Receiver(BaseHTTPRequestHandler):
    texts: list[str] = []

    def do_POST(self):
        self.texts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["text"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hooked(env, monkeypatch):
    """The settings with an incoming webhook on 127.0.0.1; the texts it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.texts = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T0KEN"
    monkeypatch.setenv("ATP_ALERT_WEBHOOK_URL", url)  # Dagster reads the secret from there
    yield replace(env, alert_webhook_url=url), Receiver.texts
    server.shutdown()


def _run(settings, instance, **options) -> tuple[int, list[str]]:
    out: list[str] = []
    return run_pipeline(
        settings, "api", years=YEARS, instance=instance, out=out.append, **options
    ), out


def test_a_change_posts_the_digest_and_a_quiet_night_posts_nothing(hooked, fake_api):
    settings, texts = hooked
    instance = dg.DagsterInstance.ephemeral()
    code, out = _run(settings, instance)
    assert code == 0, out
    (digest,) = texts
    assert digest.startswith("ATP digest, data through September 2026")
    assert (settings.published.parent / "atp.digest.md").exists()
    code, out = _run(settings, instance, only_if_changed=True)
    assert code == 0 and out[-1].startswith("Nothing new since"), out
    assert texts == [digest]


def test_a_failed_run_alerts_once_and_a_late_release_once(hooked, fake_api, monkeypatch):
    settings, texts = hooked
    instance = dg.DagsterInstance.ephemeral()
    assert _run(settings, instance)[0] == 0
    texts.clear()
    # A failed run: one alert, naming the run and what failed.
    fake_api.set_fault_for("imports", 2026, "400")
    code, out = _run(settings, instance, command="refresh", only_if_changed=True)
    assert code == 1
    run = instance.get_runs(limit=1)[0]
    assert run.tags["atp/outcome"] == "failed"
    (alert,) = texts
    assert alert.startswith(f"atp-warehouse: run {run.run_id[:8]} (`atp refresh`, ")
    assert "imports 2026: the Census API rejected the request with HTTP 400" in alert
    assert any(line.startswith("alert sent to webhook http://127.0.0.1:") for line in out), out
    # October is due from 2026-12-10 and the API still has September: one alert, not one a night.
    texts.clear()
    monkeypatch.setenv("ATP_TODAY", "2026-12-15")
    for _ in range(2):
        code, out = _run(settings, instance, only_if_changed=True)
        assert code == 0, out
    (late,) = texts
    assert late.startswith("atp-warehouse: Census release late, holds 2026-09")
    assert "should have published 2026-10" in late
    # Once October is in, the incident is closed: a later late month alerts again.
    fake_api.dataset = WithOctober()
    assert _run(settings, instance, only_if_changed=True)[0] == 0
    monkeypatch.setenv("ATP_TODAY", "2027-01-15")
    texts.clear()
    assert _run(settings, instance, only_if_changed=True)[0] == 0
    assert [t for t in texts if "release late" in t] != []
    sent = "\n".join(texts) + (settings.published.parent / "alerts.json").read_text()
    assert SENTINEL_KEY not in sent and "T0KEN" not in sent


class WithOctober(FixtureDataset):
    def rows(self, flow, year):
        rows = super().rows(flow, year)
        if rows and year == 2026:
            rows += [{**row, "month": 10} for row in rows if row["month"] == 9]
        return rows
