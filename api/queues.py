"""Dead-letter deliveries of every durable queue, and their retry (duty desk and admin).

    GET  /api/v1/dead-letters?queue=<name>&limit=100        newest first, all queues by default
    POST /api/v1/dead-letters/<queue>/<entry_id>/retry      re-enqueue under a new job id → 200;
                                                            404 when already retried or unknown

Payloads are not returned: they may hold openids; type, job id, reason and counts are enough to
decide on a retry.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from api import params
from console import audit
from console.auth import require_role
from store.streams import DurableQueue
from worker.queues import ALL_QUEUES

bp = Blueprint("queues_api", __name__, url_prefix="/api/v1")


def _queue(name: str) -> DurableQueue:
    if name not in ALL_QUEUES:
        abort(404)
    return DurableQueue(current_app.config["REDIS"], name, current_app.config["ENDFRAUD"].queue)


def dead_letter_rows(queue_names: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    rows = []
    for name in queue_names:
        for entry in _queue(name).dead_letters(limit):
            rows.append({"queue": name, "entry_id": entry["entry_id"],
                         "job_id": entry.get("job_id", ""), "type": entry.get("type", ""),
                         "reason": entry.get("reason", ""),
                         "deliveries": int(entry.get("deliveries") or 0),
                         "failed_ms": int(entry.get("failed_ms") or 0)})
    rows.sort(key=lambda r: -r["failed_ms"])
    return rows[:limit]


@bp.get("/dead-letters")
@require_role("duty")
def list_dead_letters() -> Any:
    chosen = params.choice(request.args, "queue", ALL_QUEUES, "")
    names = (chosen,) if chosen else ALL_QUEUES
    limit = params.page_size(request.args, 100, 500)
    return jsonify({"dead_letters": dead_letter_rows(names, limit)})


@bp.post("/dead-letters/<queue>/<entry_id>/retry")
@require_role("duty")
def retry_dead_letter(queue: str, entry_id: str) -> Any:
    if not _queue(queue).retry_dead_letter(entry_id):
        abort(404)
    audit.record(current_app.config["REDIS"], "dead_letter.retry", f"{queue}:{entry_id}")
    return jsonify({"ok": True, "queue": queue, "entry_id": entry_id})
