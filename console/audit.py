"""The audit log: every staff action, who did it and when, append-only in a Redis stream."""

from __future__ import annotations

import json
from typing import Any

from flask import g, has_request_context

from store import keys
from store.redis import RedisClient

MAX_ENTRIES = 1_000_000


def record(redis: RedisClient, action: str, target: str = "", actor: str | None = None,
           **detail: Any) -> None:
    """Append one entry; ``actor`` defaults to the logged-in staff member of this request.

    ``detail`` must not contain phone numbers or other personal data.
    """
    if has_request_context():
        # Tells the catch-all hook (console.web) that this request's action is already logged.
        g.audit_recorded = True
    if actor is None:
        user = getattr(g, "user", None) if has_request_context() else None
        actor = user["username"] if user else "system"
    redis.xadd(keys.audit_log(), {"actor": actor, "action": action, "target": target,
                                  "detail": json.dumps(detail, ensure_ascii=False)},
               maxlen=MAX_ENTRIES, approximate=True)


def entries(redis: RedisClient, *, actor: str = "", action: str = "", limit: int = 200,
            before: str = "+") -> list[dict[str, Any]]:
    """Newest first, optionally filtered by actor and action prefix."""
    result: list[dict[str, Any]] = []
    cursor = before
    while len(result) < limit:
        rows = redis.xrevrange(keys.audit_log(), max=cursor, count=500)
        if not rows:
            break
        for entry_id, fields in rows:
            if entry_id == cursor and cursor != "+":
                continue
            if actor and fields.get("actor") != actor:
                continue
            if action and not fields.get("action", "").startswith(action):
                continue
            result.append({"id": entry_id, "at_ms": int(entry_id.split("-")[0]),
                           "actor": fields.get("actor"), "action": fields.get("action"),
                           "target": fields.get("target"),
                           "detail": json.loads(fields.get("detail") or "{}")})
            if len(result) >= limit:
                break
        cursor = rows[-1][0]
        if len(rows) < 500:
            break
    return result
