"""Broadcasts API for propaganda staff (and admins). JSON in, JSON out.

    GET  /api/v1/broadcasts                       every broadcast, with its next run times
    POST /api/v1/broadcasts                       create → 201 (body below)
    GET  /api/v1/broadcasts/<id>                  one broadcast + next run times + recent runs
    PUT  /api/v1/broadcasts/<id>                  edit (same body; active or paused only)
    POST /api/v1/broadcasts/<id>/pause | resume | cancel
    POST /api/v1/broadcasts/<id>/preview          {"openid"}: mass/preview to staff's own WeChat
    POST /api/v1/broadcasts/<id>/run              run now (outside the schedule) → 202 + run id
    POST /api/v1/broadcasts/<id>/check            audience size and the monthly-allowance check
    GET  /api/v1/broadcasts/<id>/runs             the broadcast's runs, newest first
    GET  /api/v1/broadcast-runs/<run id>          one run's report: status, reason, batches,
                                                  MASSSENDJOBFINISH totals per msg_id and summed

Body: {"title", "articles": [article ids], "delivery": "mass" | "custom",
       "audience": {"kind": "all"} | {"kind": "communities"|"stations"|"officers", "ids": [...]}
                   | {"kind": "tag", "tag_id": 101},
       "schedule": {"kind": "once", "at": "2025-06-02T09:00"}
                   | {"kind": "cron", "cron": "0 9 * * mon", "start"?: ISO, "end"?: ISO}}
Times without an offset are Beijing time. Validation errors answer 400 {"errors": [...]}.

This process never runs a scheduler: it writes definitions and the leader scheduler applies them
within ``broadcast.sync_interval_s`` (``synced`` in the answer says whether it has).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request

from api import params
from broadcasts import audience as audiences
from broadcasts import quota, store
from broadcasts.model import (
    ACTIVE,
    CANCELLED,
    MASS,
    PAUSED,
    TZ,
    Broadcast,
    BroadcastError,
    compose_text,
    month_key,
    next_run_times,
    validate_definition,
)
from broadcasts.runs import start_run
from console import audit
from console.auth import require_role
from content.store import effective_library

bp = Blueprint("broadcasts_api", __name__, url_prefix="/api/v1")

ROLE = "propaganda"  # admin always passes require_role


def _redis() -> Any:
    return current_app.config["REDIS"]


def _config() -> Any:
    return current_app.config["ENDFRAUD"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object")
    return body


def _error(exc: Exception) -> Any:
    return jsonify({"errors": [str(exc)]}), 400


def _load(broadcast_id: str) -> Broadcast:
    broadcast = store.get(_redis(), broadcast_id)
    if broadcast is None:
        abort(404)
    return broadcast


def _view(broadcast: Broadcast, applied: dict[str, str] | None = None) -> dict[str, Any]:
    now = time.time()
    upcoming = next_run_times(broadcast.schedule, now) if broadcast.status == ACTIVE else []
    applied = store.applied_revs(_redis()) if applied is None else applied
    synced = applied.get(broadcast.id) == str(broadcast.rev) or broadcast.status != ACTIVE
    state = broadcast.status
    if state == ACTIVE and not upcoming:
        state = "finished"
    return {**broadcast.to_json(), "state": state, "synced": synced,
            "next_runs": [_iso(t) for t in upcoming]}


def _iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, TZ).isoformat()


def _definition(body: dict[str, Any]) -> dict[str, Any]:
    fields = validate_definition(body, effective_library(_redis()).articles_by_id)
    audiences.check_exists(_redis(), fields["audience"])
    return fields


@bp.get("/broadcasts")
@require_role(ROLE)
def list_broadcasts() -> Any:
    applied = store.applied_revs(_redis())
    return jsonify({"broadcasts": [_view(b, applied) for b in store.all_broadcasts(_redis())]})


@bp.post("/broadcasts")
@require_role(ROLE)
def create_broadcast() -> Any:
    try:
        fields = _definition(_body())
    except BroadcastError as exc:
        return _error(exc)
    now_ms = int(time.time() * 1000)
    broadcast = store.save(_redis(), Broadcast(
        id=store.new_broadcast_id(), created_by=g.user["username"], created_ms=now_ms,
        updated_ms=now_ms, **fields))
    audit.record(_redis(), "broadcast.create", broadcast.id, title=broadcast.title,
                 audience=broadcast.audience, schedule=broadcast.schedule)
    return jsonify(_view(broadcast)), 201


@bp.get("/broadcasts/<broadcast_id>")
@require_role(ROLE)
def get_broadcast(broadcast_id: str) -> Any:
    broadcast = _load(broadcast_id)
    return jsonify({**_view(broadcast), "runs": store.list_runs(_redis(), broadcast_id, 10)})


@bp.put("/broadcasts/<broadcast_id>")
@require_role(ROLE)
def edit_broadcast(broadcast_id: str) -> Any:
    broadcast = _load(broadcast_id)
    if broadcast.status == CANCELLED:
        return _error(BroadcastError("status: a cancelled broadcast cannot be edited"))
    try:
        fields = _definition(_body())
    except BroadcastError as exc:
        return _error(exc)
    edited = store.save(_redis(), broadcast.edited(updated_ms=int(time.time() * 1000), **fields))
    audit.record(_redis(), "broadcast.edit", broadcast_id, rev=edited.rev, title=edited.title,
                 audience=edited.audience, schedule=edited.schedule)
    return jsonify(_view(edited))


def _set_status(broadcast_id: str, allowed_from: tuple[str, ...], status: str,
                action: str) -> Any:
    broadcast = _load(broadcast_id)
    if broadcast.status not in allowed_from:
        return jsonify({"errors": [f"status: cannot go from {broadcast.status} to {status}"]}), 409
    changed = store.save(_redis(), broadcast.edited(status=status,
                                                    updated_ms=int(time.time() * 1000)))
    audit.record(_redis(), action, broadcast_id, rev=changed.rev)
    return jsonify(_view(changed))


@bp.post("/broadcasts/<broadcast_id>/pause")
@require_role(ROLE)
def pause_broadcast(broadcast_id: str) -> Any:
    return _set_status(broadcast_id, (ACTIVE,), PAUSED, "broadcast.pause")


@bp.post("/broadcasts/<broadcast_id>/resume")
@require_role(ROLE)
def resume_broadcast(broadcast_id: str) -> Any:
    return _set_status(broadcast_id, (PAUSED,), ACTIVE, "broadcast.resume")


@bp.post("/broadcasts/<broadcast_id>/cancel")
@require_role(ROLE)
def cancel_broadcast(broadcast_id: str) -> Any:
    return _set_status(broadcast_id, (ACTIVE, PAUSED), CANCELLED, "broadcast.cancel")


@bp.post("/broadcasts/<broadcast_id>/preview")
@require_role(ROLE)
def preview_broadcast(broadcast_id: str) -> Any:
    """mass/preview to one follower (staff's own openid): not counted against the monthly cap."""
    from wechatpy.exceptions import WeChatClientException

    from bot.wechat import make_client

    broadcast = _load(broadcast_id)
    openid = _body().get("openid")
    if not isinstance(openid, str) or not openid:
        return _error(BroadcastError("openid: required (your own WeChat openid)"))
    library = effective_library(_redis())
    text = compose_text([library.article(a) for a in broadcast.articles], library.reply)
    try:
        result = make_client(_config(), _redis()).message.send_mass_text(openid, text,
                                                                         preview=True)
    except WeChatClientException as exc:
        return jsonify({"errors": [f"WeChat errcode {exc.errcode}: {exc.errmsg}"]}), 502
    audit.record(_redis(), "broadcast.preview", broadcast_id, openid=openid[:8])
    return jsonify({"msg_id": result.get("msg_id"), "text": text})


@bp.post("/broadcasts/<broadcast_id>/run")
@require_role(ROLE)
def run_broadcast_now(broadcast_id: str) -> Any:
    broadcast = _load(broadcast_id)
    if broadcast.status != ACTIVE:
        return jsonify({"errors": [f"status: a {broadcast.status} broadcast does not run"]}), 409
    now = time.time()
    run_id = start_run(_config(), _redis(), broadcast_id, now, now, trigger="manual")
    audit.record(_redis(), "broadcast.run", broadcast_id, run_id=run_id)
    return jsonify({"run_id": run_id}), 202


@bp.post("/broadcasts/<broadcast_id>/check")
@require_role(ROLE)
def check_broadcast(broadcast_id: str) -> Any:
    """The allowance check a run starts with, without sending (one pass over the audience)."""
    broadcast = _load(broadcast_id)
    audience = audiences.resolve(_redis(), broadcast.audience)
    if not audience.local:
        return jsonify({"audience": None, "note": "tag members are counted when the run starts"})
    members = (m for _b, ms in audiences.iter_members(_redis(), audience, month_key(time.time()))
               for m in ms)
    checked = quota.check(members, _config().broadcast.monthly_allowance)
    return jsonify({"audience": checked.audience, "over_allowance": checked.over_allowance,
                    "allowance": checked.allowance,
                    "refusal": checked.refusal if broadcast.delivery == MASS else None})


@bp.get("/broadcasts/<broadcast_id>/runs")
@require_role(ROLE)
def list_broadcast_runs(broadcast_id: str) -> Any:
    limit = params.page_size(request.args, 50, 500)
    _load(broadcast_id)
    return jsonify({"runs": store.list_runs(_redis(), broadcast_id, limit)})


@bp.get("/broadcast-runs/<run_id>")
@require_role(ROLE)
def run_report(run_id: str) -> Any:
    run = store.get_run(_redis(), run_id)
    if run is None:
        abort(404)
    return jsonify({**run, "batches": store.run_batches(_redis(), run_id),
                    "results": store.run_results(_redis(), run_id)})
