"""ingest.alerts: a webhook post and an e-mail, each received by a local server on 127.0.0.1; one
message per incident until it is resolved; failures are lines, never exceptions, and quick; the
Census key and the webhook URL never leave."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import alerts
from ingest.errors import ConfigError
from ingest.redaction import register_secret
from ingest.settings import Settings
from tests.conftest import SENTINEL_KEY, make_settings

# The path of a Slack-style webhook carries its token: it must never be shown or stored.
HOOK_PATH = "/services/T0ALERTS/B0HOOK/x0TOKEN0in0the0path"


# -- a webhook receiver -------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    status: int = 200
    posts: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An incoming-webhook stand-in: records every POST (path, content type, body)."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.posts.append(
                {"path": self.path, "type": self.headers.get("Content-Type"), "body": body}
            )
            answer = b"ok" if state.status == 200 else b"invalid_payload"
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}{HOOK_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- an SMTP sink -------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self):
        return message_from_bytes(self.data, policy=default_policy)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                self.server.mails.append(Mail(sender, recipients, b"".join(lines)))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_sink() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.mails = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path, "http://127.0.0.1:9")


def texts(receiver: Receiver) -> list[str]:
    return [json.loads(p["body"])["text"] for p in receiver.posts]


# -- the webhook --------------------------------------------------------------------------------


def test_an_alert_arrives_as_json_text(settings, receiver, tmp_path):
    hooked = replace(settings, alert_webhook_url=receiver.url)
    lines = alerts.send(hooked, "ATP run failed", "imports 2026: HTTP 503", state_dir=tmp_path)
    port = receiver.url.split(":")[2].split("/")[0]
    assert lines == [f"alert sent to webhook http://127.0.0.1:{port}/…"]
    assert len(receiver.posts) == 1
    post = receiver.posts[0]
    assert post["path"] == HOOK_PATH
    assert post["type"] == "application/json"
    assert json.loads(post["body"]) == {"text": "ATP run failed\n\nimports 2026: HTTP 503"}
    # no incident: nothing remembered
    assert not alerts.state_path(tmp_path).exists()


def test_one_message_per_incident_until_resolved(settings, receiver, tmp_path):
    hooked = replace(settings, alert_webhook_url=receiver.url)

    def late(month):
        return alerts.send(
            hooked,
            f"Census release late: {month}",
            "the newest month held is older than the newest month due",
            incident=f"release-late:{month}",
            state_dir=tmp_path,
        )

    assert late("2026-10")[0].startswith("alert sent to webhook")
    second = late("2026-10")
    assert len(second) == 1 and second[0].startswith("alert release-late:2026-10 already sent (")
    assert len(receiver.posts) == 1
    assert set(alerts.incidents(tmp_path)) == {"release-late:2026-10"}
    stored = json.loads(alerts.state_path(tmp_path).read_text())
    assert stored["incidents"]["release-late:2026-10"]["subject"] == "Census release late: 2026-10"

    # another incident of the same kind is its own message
    late("2026-11")
    assert len(receiver.posts) == 2

    # resolved (the release came): a later recurrence alerts again; other kinds are kept
    alerts.send(hooked, "run failed", "x", incident="run-failed:abc", state_dir=tmp_path)
    assert alerts.resolve(tmp_path, "release-late:") == [
        "release-late:2026-10",
        "release-late:2026-11",
    ]
    assert set(alerts.incidents(tmp_path)) == {"run-failed:abc"}
    assert alerts.resolve(tmp_path, "release-late:") == []
    late("2026-10")
    assert len(receiver.posts) == 4
    assert texts(receiver)[-1].startswith("Census release late: 2026-10\n\n")


def test_a_receiver_answering_500_is_a_failure_line(settings, receiver, tmp_path):
    receiver.status = 500
    hooked = replace(settings, alert_webhook_url=receiver.url)
    lines = alerts.send(hooked, "s", "t", incident="stale:2026-09", state_dir=tmp_path)
    port = receiver.url.split(":")[2].split("/")[0]
    assert lines[0] == (
        f"alert to webhook http://127.0.0.1:{port}/… failed: HTTP 500 (invalid_payload)"
    )
    assert lines[1] == "incident stale:2026-09: no channel reached; the next run tries again"
    # nobody was told: the incident is not recorded, the next call tries again
    assert alerts.incidents(tmp_path) == {}
    receiver.status = 200
    assert alerts.send(hooked, "s", "t", incident="stale:2026-09", state_dir=tmp_path)[
        0
    ].startswith("alert sent")
    assert len(receiver.posts) == 2


def test_a_receiver_not_listening_is_a_failure_line(settings, tmp_path):
    url = f"http://127.0.0.1:{free_port()}{HOOK_PATH}"
    started = time.monotonic()
    lines = alerts.send(replace(settings, alert_webhook_url=url), "s", "t", state_dir=tmp_path)
    assert time.monotonic() - started < alerts.TIMEOUT
    assert len(lines) == 1
    assert lines[0].startswith("alert to webhook http://127.0.0.1:") and "failed: " in lines[0]
    assert "refused" in lines[0].lower()
    assert "T0ALERTS" not in lines[0] and "x0TOKEN" not in lines[0]


def test_a_receiver_that_never_answers_times_out(settings, tmp_path, monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections (the backlog), never answers
    monkeypatch.setattr(alerts, "TIMEOUT", 0.5)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}{HOOK_PATH}"
    try:
        started = time.monotonic()
        lines = alerts.send(replace(settings, alert_webhook_url=url), "s", "t", state_dir=tmp_path)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert elapsed < 5
    assert lines == [f"alert to webhook {alerts.shown_url(url)} failed: no answer within 0.5 s"]


def test_the_key_and_the_webhook_url_never_leave(settings, receiver, tmp_path):
    register_secret(SENTINEL_KEY)
    hooked = replace(settings, alert_webhook_url=receiver.url)
    text = (
        f"GET https://api.census.gov/data/x?get=CTY_CODE&key={SENTINEL_KEY} failed; "
        f"the key {SENTINEL_KEY}; posted to {receiver.url}"
    )
    lines = alerts.send(
        hooked,
        f"run failed ({SENTINEL_KEY})",
        text,
        incident=f"run-failed:{SENTINEL_KEY}",
        state_dir=tmp_path,
    )
    received = texts(receiver)[0]
    assert SENTINEL_KEY not in received and "x0TOKEN" not in received
    assert received.startswith("run failed (***)\n\n")
    assert "key=***" in received
    stored = alerts.state_path(tmp_path).read_text()
    assert SENTINEL_KEY not in stored and "x0TOKEN" not in stored
    assert all(SENTINEL_KEY not in line and "x0TOKEN" not in line for line in lines)


def test_nothing_configured_does_nothing(settings, tmp_path):
    assert not alerts.configured(settings)
    assert alerts.send(settings, "s", "t", incident="x:1", state_dir=tmp_path) == []
    assert not alerts.state_path(tmp_path).exists()


# -- e-mail -------------------------------------------------------------------------------------


def test_an_email_arrives_with_subject_and_text(settings, smtp_sink, tmp_path):
    register_secret(SENTINEL_KEY)
    port = smtp_sink.server_address[1]
    mailed = replace(
        settings,
        alert_email_to=("ops@example.org", "me@example.org"),
        smtp_host="127.0.0.1",
        smtp_port=port,
        alert_email_from="atp@example.org",
    )
    lines = alerts.send(
        mailed,
        "ATP digest: data through September 2026",
        f"Imports rose.\nkey {SENTINEL_KEY}",
        state_dir=tmp_path,
    )
    assert lines == [f"e-mail sent to ops@example.org, me@example.org via 127.0.0.1:{port}"]
    assert len(smtp_sink.mails) == 1
    mail = smtp_sink.mails[0]
    assert mail.recipients == ["ops@example.org", "me@example.org"]
    message = mail.message
    assert message["Subject"] == "ATP digest: data through September 2026"
    assert message["From"] == "atp@example.org"
    assert message["To"] == "ops@example.org, me@example.org"
    assert message.get_content().replace("\r\n", "\n") == "Imports rose.\nkey ***\n"
    assert SENTINEL_KEY.encode() not in mail.data


def test_both_channels_and_an_email_failure(settings, receiver, tmp_path):
    port = free_port()
    both = replace(
        settings,
        alert_webhook_url=receiver.url,
        alert_email_to=("ops@example.org",),
        smtp_host="127.0.0.1",
        smtp_port=port,
    )
    started = time.monotonic()
    lines = alerts.send(both, "s", "t", incident="run-failed:1", state_dir=tmp_path)
    assert time.monotonic() - started < alerts.TIMEOUT
    assert lines[0].startswith("alert sent to webhook")
    assert lines[1].startswith(f"e-mail to ops@example.org failed (127.0.0.1:{port}): ")
    assert "refused" in lines[1].lower()
    # one channel reached: the incident counts as sent
    assert set(alerts.incidents(tmp_path)) == {"run-failed:1"}


# -- settings -----------------------------------------------------------------------------------


def test_alert_settings_from_the_environment():
    found = Settings.from_env(
        {
            "ATP_ALERT_WEBHOOK_URL": "https://hooks.example.org/services/T0/B0/secret",
            "ATP_ALERT_EMAIL_TO": " ops@example.org, ,me@example.org ",
            "ATP_SMTP_HOST": "mail.example.org",
            "ATP_SMTP_PORT": "587",
            "ATP_SMTP_USER": "atp",
            "ATP_SMTP_PASSWORD": "pw",
            "ATP_SMTP_STARTTLS": "1",
            "ATP_ALERT_EMAIL_FROM": "atp@example.org",
        }
    )
    assert found.alert_webhook_url == "https://hooks.example.org/services/T0/B0/secret"
    assert found.alert_email_to == ("ops@example.org", "me@example.org")
    assert (found.smtp_host, found.smtp_port, found.smtp_user) == ("mail.example.org", 587, "atp")
    assert found.smtp_password == "pw" and found.smtp_starttls
    assert found.alert_email_from == "atp@example.org"
    assert "secret" not in repr(found) and "pw" not in repr(found)
    assert alerts.shown_url(found.alert_webhook_url) == "https://hooks.example.org/…"

    plain = Settings.from_env({})
    assert plain.alert_webhook_url is None and plain.alert_email_to == ()
    assert (plain.smtp_host, plain.smtp_port, plain.smtp_starttls) == ("localhost", 25, False)
    assert plain.alert_email_from == f"atp-warehouse@{socket.gethostname()}"


@pytest.mark.parametrize("url", ["ftp://hooks.example.org/x0secret", "hooks.example.org/x0secret"])
def test_a_webhook_url_that_is_not_http_is_one_line(url):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"ATP_ALERT_WEBHOOK_URL": url})
    message = str(raised.value)
    assert message.startswith("ATP_ALERT_WEBHOOK_URL is not an http(s) URL: set it to ")
    assert "\n" not in message and "x0secret" not in message


def test_a_bad_email_address_or_port_is_one_line():
    with pytest.raises(ConfigError, match="^ATP_ALERT_EMAIL_TO: 'ops' is not an e-mail address"):
        Settings.from_env({"ATP_ALERT_EMAIL_TO": "ops"})
    with pytest.raises(ConfigError, match="^ATP_SMTP_PORT='0' is not a whole number"):
        Settings.from_env({"ATP_SMTP_PORT": "0"})
