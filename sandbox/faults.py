"""Fault switches and rate limits the control API arms, consulted before every simulated API call.

A fault fires on the next ``times`` calls to one API (``"message/template/send"``, the path
under ``/cgi-bin/``; ``"sms"`` for the SMS gateway) or to every API (``"*"``).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from sandbox import errors

# errmsg texts as WeChat returns them.
ERRMSGS = {
    errors.SYSTEM_BUSY: "system error",
    errors.DAILY_QUOTA: "reach max api daily quota limit",
    errors.MINUTE_QUOTA: "api minute-quota reach limit  mustslower  retry next minute",
}
KINDS = ("busy", "quota", "errcode", "http", "hang")


@dataclass
class Fault:
    """What the next matching call does instead of (or, for ``hang``, before) its normal work."""

    api: str
    kind: str
    times: int = 1
    errcode: int = errors.SYSTEM_BUSY
    http_status: int = 503
    hang_ms: int = 0

    @property
    def errmsg(self) -> str:
        return ERRMSGS.get(self.errcode, "sandbox injected fault")


@dataclass
class RateLimit:
    """At most ``per_s`` calls per clock second to ``api``; the rest get ``errcode``."""

    api: str
    per_s: int
    errcode: int = errors.MINUTE_QUOTA
    window_s: int = -1
    used: int = 0


def make_fault(spec: dict[str, Any]) -> Fault:
    """Build a fault from the control API's JSON; ``busy``/``quota`` are errcode -1/45009."""
    kind = spec.get("fault", spec.get("kind"))
    if kind not in KINDS:
        raise ValueError(f"fault must be one of {KINDS}, got {kind!r}")
    errcode = {"busy": errors.SYSTEM_BUSY, "quota": errors.DAILY_QUOTA}.get(
        kind, int(spec.get("errcode", errors.SYSTEM_BUSY)))
    fault = Fault(api=str(spec.get("api", "*")), kind=kind, times=int(spec.get("times", 1)),
                  errcode=errcode, http_status=int(spec.get("http_status", 503)),
                  hang_ms=int(spec.get("hang_ms", 0)))
    if fault.times < 1:
        raise ValueError("times must be at least 1")
    return fault


class FaultBoard:
    """Armed faults (consumed in arming order) and per-API rate limits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._limits: dict[str, RateLimit] = {}

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def limit(self, api: str, per_s: int, errcode: int = errors.MINUTE_QUOTA) -> None:
        with self._lock:
            if per_s <= 0:
                self._limits.pop(api, None)
            else:
                self._limits[api] = RateLimit(api=api, per_s=per_s, errcode=errcode)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._limits.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"faults": [asdict(f) for f in self._faults],
                    "rate_limits": [asdict(r) for r in self._limits.values()]}

    def take(self, api: str, now_s: float) -> Fault | None:
        """The fault this call suffers, if any; a call counts against the rate limit."""
        with self._lock:
            for fault in self._faults:
                if fault.api in ("*", api):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
            limit = self._limits.get(api) or self._limits.get("*")
            if limit is None:
                return None
            window = int(now_s)
            if window != limit.window_s:
                limit.window_s, limit.used = window, 0
            limit.used += 1
            if limit.used > limit.per_s:
                return Fault(api=api, kind="errcode", errcode=limit.errcode)
            return None
