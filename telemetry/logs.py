"""Log output: plain text (the default) or one JSON object per line (``service.log_format``).

A JSON line carries ``time`` (UTC, ISO 8601), ``level``, ``role`` (web, worker, scheduler...),
``logger``, ``message`` and, where known, ``request_id`` (web), ``job_id`` (worker) and
``alert_id``; an exception adds ``exc``. The ids come from ``context``: the web binds the
request id for each request, the worker the job id and the job's alert id for each job.

Phone numbers never reach the output: code logs masked numbers only, and both formats also
mask anything shaped like a mainland mobile number in the final text, in case one slips into an
exception message; likewise ``secret=`` and ``access_token=`` in URLs (urllib3's DEBUG lines).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context")
CONTEXT_FIELDS = ("request_id", "job_id", "alert_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# 11-digit mainland mobile numbers (optionally +86/86-prefixed), not part of a longer digit run.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")


# Credentials in URLs: urllib3 logs every request line at DEBUG, and WeChat takes the AppSecret
# and the access token as query parameters.
_URL_SECRET = re.compile(r"((?:secret|access_token|appsecret)=)[^&\s\"']+", re.IGNORECASE)


def scrub(text: str) -> str:
    """Mask phone numbers and URL credentials in a formatted log line."""
    text = _URL_SECRET.sub(r"\1***", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


@contextlib.contextmanager
def context(**fields: str | None) -> Iterator[None]:
    """Add ids to every log line written inside the block (this thread / task only)."""
    token = _context.set({**_context.get({}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str | None) -> contextvars.Token[dict[str, str]]:
    """Like ``context`` for code with separate start and end hooks (Flask's request hooks)."""
    return _context.set({**_context.get({}), **{k: v for k, v in fields.items() if v}})


def unbind(token: contextvars.Token[dict[str, str]]) -> None:
    _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, role: str = "") -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "role": self.role,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_context.get({}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def make_formatter(log_format: str, role: str) -> logging.Formatter:
    return JsonFormatter(role) if log_format == "json" else TextFormatter()


def configure(log_format: str, level: str, role: str, stream: IO[str] | None = None) -> None:
    """Send the root logger to ``stream`` (stderr) in the chosen format, replacing the handler a
    previous call installed (other handlers, e.g. pytest's, stay)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "endfraud", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.endfraud = True  # type: ignore[attr-defined]
    handler.setFormatter(make_formatter(log_format, role))
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO (the broadcast sync runs every 2 s).
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


def gunicorn_logconfig(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own error log in our format, to stderr."""
    formatter: dict[str, Any] = {"()": "telemetry.logs.TextFormatter"}
    if log_format == "json":
        formatter = {"()": "telemetry.logs.JsonFormatter", "role": "web"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"endfraud": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "endfraud",
                                "stream": "ext://sys.stderr"}},
        # Replaces gunicorn's defaults, so root must be named; our own handler on root is added
        # by ``configure`` in each worker.
        "root": {"level": level, "handlers": []},
        "loggers": {"gunicorn.error": {"level": level, "handlers": ["stderr"],
                                       "propagate": False}},
    }
