"""Simulated citizens: the JSON API a phone page (or a test) drives, and the phone pages.

Each action becomes the XML WeChat would POST to the webhook; the webhook's passive reply is
decoded and shown on the phone. A failed delivery (no 2xx after WeChat's 3 attempts, or a reply
WeChat cannot show) becomes a ``notice`` the page renders as WeChat's "service unavailable".
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response  # what redirect() builds; flask.Response is one

from sandbox import log as message_log
from sandbox import wire
from sandbox.context import Sandbox, current
from sandbox.errors import SandboxError
from sandbox.state import Interaction, is_openid

bp = Blueprint("sandbox_phone", __name__)

# WeChat shows nothing for replies to these events.
NO_REPLY_EVENTS = frozenset({"unsubscribe", "VIEW"})
CHAT_KINDS = message_log.OUTBOUND_KINDS + message_log.CHAT_ONLY_KINDS


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def interact(sandbox: Sandbox, interaction: Interaction) -> dict[str, Any]:
    """POST one citizen action to the webhook and record what the citizen then sees."""
    return deliver(sandbox, interaction.openid, interaction.event or "text",
                   wire.interaction_xml(sandbox.account, interaction))


def deliver(sandbox: Sandbox, openid: str, event: str, xml: str) -> dict[str, Any]:
    """POST one callback ``xml`` for ``openid``; the passive reply joins the chat."""
    delivery = sandbox.webhook.deliver(xml, openid, event)
    result: dict[str, Any] = {"event": event, "delivered": delivery.ok, "reply": None,
                              "error": None, "attempts": delivery.attempts}
    if not delivery.ok:
        result["error"] = delivery.error
        sandbox.state.record_notice(openid, "service_unavailable", delivery.error or "")
        return result
    if event in NO_REPLY_EVENTS:
        return result
    try:
        payload = sandbox.webhook.envelope.open_reply(delivery.body, openid)
    except wire.InvalidReply as exc:
        result["error"] = str(exc)
        sandbox.state.record_notice(openid, "service_unavailable", str(exc))
        return result
    if payload is not None:
        result["reply"] = sandbox.state.record_reply(openid, payload).to_json()
    return result


@bp.post("/sandbox/api/citizens")
def create_citizen() -> dict[str, Any]:
    return current().state.create_citizen(_body().get("openid")).to_json()


@bp.get("/sandbox/api/citizens/<openid>")
def get_citizen(openid: str) -> dict[str, Any]:
    return current().state.citizen(openid).to_json()


@bp.post("/sandbox/api/citizens/<openid>/follow")
def follow(openid: str) -> dict[str, Any]:
    body = _body()
    scene = body.get("scene")
    sandbox = current()
    interaction = sandbox.state.follow(openid, None if scene is None else str(scene),
                                       body.get("ticket") or None)
    return interact(sandbox, interaction)


@bp.post("/sandbox/api/citizens/<openid>/unfollow")
def unfollow(openid: str) -> dict[str, Any]:
    sandbox = current()
    return interact(sandbox, sandbox.state.unfollow(openid))


@bp.post("/sandbox/api/citizens/<openid>/text")
def send_text(openid: str) -> dict[str, Any]:
    sandbox = current()
    return interact(sandbox, sandbox.state.send_text(openid, str(_body().get("text", ""))))


@bp.post("/sandbox/api/citizens/<openid>/click")
def click(openid: str) -> dict[str, Any]:
    sandbox = current()
    return interact(sandbox, sandbox.state.click(openid, str(_body().get("key", ""))))


@bp.post("/sandbox/api/citizens/<openid>/view")
def view(openid: str) -> dict[str, Any]:
    sandbox = current()
    return interact(sandbox, sandbox.state.view(openid, str(_body().get("url", ""))))


@bp.post("/sandbox/api/citizens/<openid>/phone")
def claim_phone(openid: str) -> dict[str, Any]:
    sandbox = current()
    sandbox.state.claim_phone(openid, str(_body().get("phone", "")))
    return sandbox.state.citizen(openid).to_json()


@bp.get("/sandbox/api/citizens/<openid>/chat")
def chat(openid: str) -> dict[str, Any]:
    """What the phone page polls: new chat items since ``since``, the citizen, the menu."""
    state = current().state
    citizen = state.citizen(openid).to_json()
    since = request.args.get("since", 0, type=int)
    items = state.messages(openid, CHAT_KINDS, since, limit=500)
    return {"items": items, "next_since": items[-1]["seq"] if items else since,
            "citizen": citizen, "menu": state.menu, "menu_version": state.menu_version}


@bp.get("/sandbox/")
def index() -> str:
    sandbox = current()
    return render_template("sandbox_index.html", citizens=sandbox.state.citizens(),
                           account=sandbox.account, webhook_url=sandbox.webhook.url)


@bp.get("/sandbox/phone")
def new_phone() -> Response:
    """A new citizen's phone; ``?scan=<ticket>`` makes the page scan that code on load."""
    citizen = current().state.create_citizen()
    args: dict[str, Any] = request.args.to_dict()  # typed loosely: url_for has bool keywords
    return redirect(url_for("sandbox_phone.phone", openid=citizen.openid, **args))


@bp.get("/sandbox/phone/<openid>")
def phone(openid: str) -> str:
    if not is_openid(openid):
        abort(404)
    # Unknown but well-formed openids are created, so bookmarks survive a reset or restart.
    current().state.create_citizen(openid)
    return render_template("sandbox_phone.html", openid=openid,
                           scan=request.args.get("scan", ""))


@bp.get("/sandbox/q/<code>")
def scan_url(code: str) -> Response:
    """Where a QR image's url points: open a new phone that scans this code."""
    qr = current().state.qr_for_url_code(code)
    if qr is None:
        raise SandboxError("this QR code does not exist or has expired", status=404)
    return redirect(url_for("sandbox_phone.new_phone", scan=qr.ticket))
