"""Keep the Census API key out of logs, exception text and anything we store.

The key has to travel in the query string (`key=`), and urllib3 logs the full request line at
DEBUG level, so a logging filter scrubs it from every record those loggers emit.
"""

from __future__ import annotations

import logging
import re
import threading

_KEY_PARAM = re.compile(r"(?i)(\bkey=)[^&\s'\"]+")
_MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False

# Loggers that may see a request URL. A filter attached to a logger only sees that logger's own
# records, so each one gets it.
_URL_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "requests",
    "ingest",
)


def redact(text: str) -> str:
    """Return text with every registered secret and any `key=...` query value masked."""
    text = _KEY_PARAM.sub(r"\g<1>" + _MASK, text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; still scrub the template
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def register_secret(secret: str) -> None:
    """Remember a secret so that redact() and the logging filter mask it from now on."""
    if secret:
        with _lock:
            _secrets.add(secret)
    _install_filter()


def _install_filter() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    flt = _RedactingFilter()
    for name in _URL_LOGGERS:
        logging.getLogger(name).addFilter(flt)
