"""Inspection and control API for tests, benchmarks and the demo, plus the SMS gateway stand-in.
Documented in docs/sandbox.md.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox import log as message_log
from sandbox import wire
from sandbox.context import current
from sandbox.errors import SandboxError
from sandbox.faults import make_fault

bp = Blueprint("sandbox_control", __name__)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/sandbox/sms/send")
def sms_send() -> Response:
    """The app's SMS gateway adapter posts ``{"phone", "text"}`` here."""
    sandbox = current()
    fault = sandbox.faults.take("sms", sandbox.state.clock.now())
    if fault is not None and fault.kind == "hang":
        time.sleep(fault.hang_ms / 1000)
    elif fault is not None:
        status = fault.http_status if fault.kind == "http" else 503
        response = jsonify({"ok": False, "error": fault.errmsg})
        response.status_code = status
        return response
    body = _body()
    entry = sandbox.state.record_sms(str(body.get("phone", "")), str(body.get("text", "")))
    return jsonify({"ok": True, "id": entry.seq})


@bp.get("/sandbox/api/messages")
def messages() -> dict[str, Any]:
    args = request.args
    kind = args.get("kind")
    known = message_log.OUTBOUND_KINDS + message_log.CHAT_ONLY_KINDS
    if kind is not None and kind not in known:
        raise SandboxError(f"kind must be one of {known}")
    kinds = (kind,) if kind else message_log.OUTBOUND_KINDS
    since = args.get("since", 0, type=int)
    found = current().state.messages(args.get("openid") or None, kinds, since,
                                     args.get("limit", 10_000, type=int))
    return {"messages": found, "next_since": found[-1]["seq"] if found else since}


@bp.get("/sandbox/api/stats")
def stats() -> dict[str, Any]:
    sandbox = current()
    return {**sandbox.state.stats(), "pending_callbacks": sandbox.webhook.pending_count()}


@bp.post("/sandbox/api/reset")
def reset() -> dict[str, Any]:
    current().reset()
    return {"ok": True}


@bp.get("/sandbox/api/followers")
def followers() -> dict[str, Any]:
    citizens = current().state.citizens()
    return {"citizens": citizens, "followers": [c for c in citizens if c["subscribe"]]}


@bp.get("/sandbox/api/account")
def account() -> dict[str, Any]:
    sandbox = current()
    wechat = sandbox.config.wechat
    return {"app_id": wechat.app_id, "gh_id": sandbox.account,
            "operator_openid": wire.operator_openid(wechat.app_id),
            "webhook_url": sandbox.webhook.url, "encrypt_mode": wechat.encrypt_mode,
            "callback_delay_ms": int(sandbox.callback_delay_s * 1000)}


@bp.get("/sandbox/api/menu")
def menu() -> dict[str, Any]:
    state = current().state
    return {"menu": state.menu, "menu_version": state.menu_version}


@bp.get("/sandbox/api/faults")
def list_faults() -> dict[str, Any]:
    return current().faults.describe()


@bp.post("/sandbox/api/faults")
def add_fault() -> dict[str, Any]:
    """``{"api", "fault": busy|quota|errcode|http|hang, "times", "errcode", "http_status",
    "hang_ms"}`` or ``{"api", "rate_limit_per_s", "errcode"}`` (per_s 0 removes the limit)."""
    body = _body()
    faults = current().faults
    try:
        if "rate_limit_per_s" in body:
            faults.limit(str(body.get("api", "*")), int(body["rate_limit_per_s"]),
                         int(body.get("errcode", 45011)))
        else:
            faults.arm(make_fault(body))
    except (TypeError, ValueError) as exc:
        raise SandboxError(str(exc)) from None
    return faults.describe()


@bp.delete("/sandbox/api/faults")
def clear_faults() -> dict[str, Any]:
    faults = current().faults
    faults.clear()
    return faults.describe()


@bp.post("/sandbox/api/tokens/expire")
def expire_tokens() -> dict[str, Any]:
    """``{"mode": "expire"}`` (next call 42001, default) or ``"invalidate"`` (40001)."""
    count = current().state.expire_tokens(str(_body().get("mode", "expire")))
    return {"ok": True, "tokens": count}


@bp.get("/sandbox/api/clock")
def clock() -> dict[str, Any]:
    return {"now_s": current().state.clock.now()}


@bp.post("/sandbox/api/clock/advance")
def advance_clock() -> dict[str, Any]:
    try:
        now = current().state.clock.advance(float(_body().get("seconds", 0)))
    except (TypeError, ValueError) as exc:
        raise SandboxError(str(exc)) from None
    return {"now_s": now}


@bp.post("/sandbox/api/templates")
def register_template() -> dict[str, Any]:
    template_id = str(_body().get("template_id", ""))
    if not template_id:
        raise SandboxError("template_id required")
    current().state.register_template(template_id)
    return {"ok": True, "template_id": template_id}


@bp.get("/sandbox/api/callbacks")
def callbacks() -> dict[str, Any]:
    """The last webhook deliveries (citizen actions and job-finish events) with outcomes."""
    return {"callbacks": current().webhook.deliveries(request.args.get("limit", 100, type=int))}
