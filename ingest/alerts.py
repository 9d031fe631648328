"""Telling people: an alert to an incoming webhook (a JSON body `{"text": ...}`, which Slack,
Mattermost and Teams-style webhooks accept) and/or by e-mail (SMTP), for the pipeline, its
sensors and `atp` to call. No Dagster here: orchestration wires it in.

- An alert never fails the run it reports: a channel's failure is a line of the result, and every
  network call has a short timeout.
- One message per incident ("release-late:2026-10", "run-failed:<run id>"): `state_dir/alerts.json`
  remembers the incidents sent, until `resolve` forgets them (the release is no longer late), so a
  later recurrence alerts again.
- What is sent or stored goes through `redact`: neither the Census key nor the webhook URL (a
  secret: Slack's carries a token) leaves; the URL shows as scheme://host/… only.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from ingest.files import write_atomic
from ingest.redaction import redact, register_secret
from ingest.settings import Settings, default_email_from

log = logging.getLogger(__name__)

STATE_FILE = "alerts.json"
# Seconds: to connect, and for each answer. An alert waits no longer than this per channel step.
CONNECT_TIMEOUT = 5
TIMEOUT = 10
# How long to wait for another process's hold on the state file before going on without it.
LOCK_WAIT = 5

Channel = Callable[[Settings, str, str], tuple[str, bool]]


def configured(settings: Settings) -> bool:
    """True when at least one channel (webhook, e-mail) is set."""
    return bool(_channels(settings))


def state_path(state_dir: Path) -> Path:
    """The file that remembers the incidents sent (`state_dir` is, e.g., the published copy's
    folder, settings.published.parent)."""
    return state_dir / STATE_FILE


def send(
    settings: Settings,
    subject: str,
    text: str,
    *,
    incident: str | None = None,
    state_dir: Path,
) -> list[str]:
    """Send `subject` and `text` to every configured channel; one line per channel says what
    happened. Nothing configured: []. An `incident` already sent (and not resolved since) is not
    sent again: one line says so. Never raises for a channel's failure."""
    channels = _channels(settings)
    if not channels:
        return []
    _register_secrets(settings)
    # One line: a subject is an e-mail header and the webhook post's first line.
    subject = " ".join(redact(subject).split())
    text = redact(text)
    lines: list[str] = []
    if incident is not None:
        incident = redact(incident)
        claimed, note = _claim(state_dir, incident, subject)
        if note:
            lines.append(note)
        if not claimed:
            return lines
    results = [_safely(channel, settings, subject, text) for channel in channels]
    lines += [line for line, _ in results]
    if incident is not None and not any(ok for _, ok in results):
        # Nobody was told: forget the incident, so that the next run tries again.
        resolve(state_dir, incident, exact=True)
        lines.append(f"incident {incident}: no channel reached; the next run tries again")
    return lines


def resolve(state_dir: Path, prefix: str, *, exact: bool = False) -> list[str]:
    """Forget the incidents that start with `prefix` (or equal it, with exact=True): the next
    one of that kind alerts again. Returns the incidents forgotten. Never raises."""
    path = state_path(state_dir)
    if not path.exists():  # nothing was ever sent: nothing to forget (and no folder to make)
        return []
    try:
        with _locked(path):
            known = _read(path)
            gone = sorted(
                name for name in known if (name == prefix if exact else name.startswith(prefix))
            )
            if gone:
                for name in gone:
                    del known[name]
                _write(path, known)
    except (OSError, ValueError) as exc:
        log.warning("cannot update %s: %s", path, redact(str(exc)))
        return []
    return gone


def incidents(state_dir: Path) -> dict[str, dict[str, Any]]:
    """{incident: {"sent_at": ISO time, "subject": ...}} of the incidents sent and not resolved."""
    try:
        return _read(state_path(state_dir))
    except (OSError, ValueError):
        return {}


def shown_url(url: str) -> str:
    """A webhook URL as it may be shown: scheme://host[:port]/… (the path carries the token)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    return f"{parts.scheme}://{host}{port}/…"


# -- channels -----------------------------------------------------------------------------------


def _channels(settings: Settings) -> list[Channel]:
    channels: list[Channel] = []
    if settings.alert_webhook_url:
        channels.append(_webhook)
    if settings.alert_email_to:
        channels.append(_email)
    return channels


def _register_secrets(settings: Settings) -> None:
    for secret in (settings.api_key, settings.smtp_password, settings.alert_webhook_url):
        if secret:
            register_secret(secret)
    # An error message may name the URL's path (requests: "Max retries exceeded with url: /…").
    if settings.alert_webhook_url:
        parts = urlsplit(settings.alert_webhook_url)
        if len(parts.path) > 1:
            register_secret(parts.path)
            register_secret(f"{parts.path}?{parts.query}" if parts.query else parts.path)


def _safely(channel: Channel, settings: Settings, subject: str, text: str) -> tuple[str, bool]:
    # A channel handles its own failures; this catches what nobody foresaw.
    try:
        return channel(settings, subject, text)
    except Exception as exc:  # an alert must not fail the run it reports
        return redact(f"alert by {channel.__name__.strip('_')} failed: {_reason(exc)}"), False


def _webhook(settings: Settings, subject: str, text: str) -> tuple[str, bool]:
    url = settings.alert_webhook_url or ""
    where = f"webhook {shown_url(url)}"
    try:
        response = requests.post(
            url,
            json={"text": f"{subject}\n\n{text}"},
            timeout=(CONNECT_TIMEOUT, TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return redact(f"alert to {where} failed: {_reason(exc)}"), False
    if 200 <= response.status_code < 300:
        return f"alert sent to {where}", True
    said = " ".join(response.text.split())[:120]
    detail = f" ({said})" if said else ""
    return redact(f"alert to {where} failed: HTTP {response.status_code}{detail}"), False


def _email(settings: Settings, subject: str, text: str) -> tuple[str, bool]:
    to = ", ".join(settings.alert_email_to)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.alert_email_from or default_email_from()
    message["To"] = to
    message.set_content(text)
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        refused = _deliver(settings, message)
    except (OSError, smtplib.SMTPException) as exc:  # refused, timed out, rejected, TLS
        return redact(f"e-mail to {to} failed ({server}): {_reason(exc)}"), False
    if refused:
        ok = [a for a in settings.alert_email_to if a not in refused]
        line = f"e-mail to {', '.join(ok)} sent; refused for {', '.join(refused)} ({server})"
        return redact(line), bool(ok)
    return f"e-mail sent to {to} via {server}", True


def _deliver(settings: Settings, message: EmailMessage) -> dict:
    # Port 465 speaks TLS from the start; elsewhere ATP_SMTP_STARTTLS upgrades the connection.
    implicit_tls = settings.smtp_port == 465
    smtp_class = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT) as smtp:
        if settings.smtp_starttls and not implicit_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        return smtp.send_message(message)


def _reason(exc: BaseException) -> str:
    """A short cause: 'Connection refused', 'timed out', '550 mailbox unavailable'."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT} s"
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        said = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {' '.join(said.split())}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {TIMEOUT} s"
    # requests wraps the socket's error several levels deep: its errno text is the cause.
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    if found:
        return found.group(1).strip()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the incidents sent -------------------------------------------------------------------------


def _claim(state_dir: Path, incident: str, subject: str) -> tuple[bool, str | None]:
    """Record `incident` as sent, unless it already is: (go ahead?, a line to report or None).
    Recorded before sending, so that two processes alerting at once send it once."""
    path = state_path(state_dir)
    try:
        with _locked(path):
            try:
                known = _read(path)
            except ValueError:
                known = {}  # a damaged file: start afresh, it only suppresses repeats
            if incident in known:
                when = known[incident].get("sent_at", "before")
                return False, f"alert {incident} already sent ({when}): not sent again"
            known[incident] = {"sent_at": datetime.now(UTC).isoformat(timespec="seconds")}
            known[incident]["subject"] = subject
            _write(path, known)
    except OSError as exc:
        # Better twice than never: send without the record.
        return True, redact(f"cannot record the alert in {path} ({_reason(exc)}); sending anyway")
    return True, None


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    found = data.get("incidents") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise ValueError(f"{path} is not an alerts file")
    return found


def _write(path: Path, known: dict[str, dict[str, Any]]) -> None:
    write_atomic(path, json.dumps({"incidents": known}, indent=2, sort_keys=True) + "\n")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold `<state file>.lock` (flock) for a read-modify-write; after LOCK_WAIT seconds go on
    without it (an alert never waits long)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log.warning("%s is held by another process; going on without it", path)
                    break
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
