"""Query parameters of the list endpoints, parsed one way everywhere.

Every api/* list endpoint (and the console pages that page the same data) reads ``limit``,
``before``/``before_ms``, ``days`` and ``day`` through these functions. A value that is not what
the parameter means (``limit=abc``, ``limit=0``, ``before_ms=-1``, ``day=2024``) is refused with
400 and a JSON body naming the parameter; a ``limit`` or ``days`` past the endpoint's cap is
clamped to the cap, so no request can ask for more than one page. Nothing is read or changed
before the refusal.

Only ASCII digits count as digits: ``int()`` would take "１０" and "٣", and ``str.isdigit`` "²".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import abort, jsonify, make_response

_WHOLE = re.compile(r"[0-9]{1,18}")
_STREAM_ID = re.compile(r"[0-9]{1,18}-[0-9]{1,18}")
_DAY = re.compile(r"20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")


def refuse(name: str, message: str) -> None:
    """Abort the request: 400 with ``{"error": "<name>: <message>", "field": name}``."""
    abort(make_response(jsonify({"error": f"{name}: {message}", "field": name}), 400))


def _whole(args: Mapping[str, str], name: str) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if not _WHOLE.fullmatch(raw):
        refuse(name, "must be a whole number")
    return int(raw)


def page_size(args: Mapping[str, str], default: int, cap: int, name: str = "limit") -> int:
    """``limit``: 1..cap (larger is clamped to cap), ``default`` when absent."""
    value = _whole(args, name)
    if value is None:
        return min(default, cap)
    if value < 1:
        refuse(name, "must be at least 1")
    return min(value, cap)


def before_ms(args: Mapping[str, str], name: str = "before_ms") -> int | None:
    """A unix-ms cursor (the last item's time from the previous page), or None."""
    return _whole(args, name)


def before_entry(args: Mapping[str, str], name: str = "before") -> str:
    """A Redis stream entry id cursor (``<ms>-<seq>``); ``+`` (newest) when absent."""
    raw = args.get(name)
    if raw is None or raw in ("", "+"):
        return "+"
    if not _STREAM_ID.fullmatch(raw):
        refuse(name, "must be an entry id like 1700000000000-0")
    return raw


def day_count(args: Mapping[str, str], default: int, cap: int, name: str = "days") -> int:
    """A number of days back: 1..cap (larger is clamped to cap)."""
    return page_size(args, default, cap, name)


def day(args: Mapping[str, str], default: str, name: str = "day") -> str:
    """A calendar day as yyyymmdd."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not _DAY.fullmatch(raw):
        refuse(name, "must be a day as yyyymmdd")
    return raw


def choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        refuse(name, f"must be one of {', '.join(allowed)}")
    return raw
