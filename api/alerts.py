"""The alerts API: signed ingest for the warning platform, JSON for the console's alert desk,
and the citizen's answer page behind the signed link in each warning.

Ingest (``POST /api/v1/alerts``, docs/openapi-alerts.yaml) does no WeChat call: it verifies the
signature, validates, and puts each new alert on the WARNINGS stream before answering.
Staff endpoints check the role (duty and admin see every area; an officer only their station)
and audit every action.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import redis as redis_lib
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    render_template_string,
    request,
)

from alerts import answer_rules, signing
from alerts.answers import (
    allow_link_post,
    close_alert,
    own_answer,
    record_answer,
    reply_for,
    update_checklist,
)
from alerts.ingest import INVALID, accept
from alerts.links import read_token
from alerts.model import CHECKLIST, PAID, SAFE, day_of
from alerts.store import CALLBACK_OUTCOMES, AlertStore
from api import params
from console import audit
from console.auth import require_role, station_scope
from content.library import load_library
from store import keys, tallies
from store.phones import PhoneVault, mask
from store.replication import NotReplicated
from store.streams import DurableQueue
from worker.queues import WARNINGS

bp = Blueprint("alerts_api", __name__)

MAX_LIST = 500
DEFAULT_PAGE = 100
_CURSOR = re.compile(r"[0-9]{1,16}:[A-Za-z0-9_.:-]{1,200}")  # <ms>:<alert id or call-back id>
STAFF_VIEW = ("duty", "officer")


def _config() -> Any:
    return current_app.config["ENDFRAUD"]


def _redis() -> Any:
    return current_app.config["REDIS"]


def _store() -> AlertStore:
    return AlertStore(_redis(), _config().alerts.retention_days * 86400)


def _vault() -> PhoneVault:
    return PhoneVault.from_config(_config().privacy)


def _error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


MAX_NOTE_CHARS = 500


def _desk_body() -> dict[str, Any]:
    """A desk action's JSON object (absent or unreadable: empty); any other JSON is a 400."""
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        abort(make_response(jsonify({"error": "expected a JSON object"}), 400))
    return body


def _desk_note(body: dict[str, Any]) -> str:
    """The staff note: text of at most 500 characters (a lone surrogate, which Redis cannot
    store, never gets here: ``app.refuse_lone_surrogates`` answers 400 before any view)."""
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        abort(make_response(jsonify({"error": f"note: text of at most {MAX_NOTE_CHARS} "
                                              "characters", "field": "note"}), 422))
    return note


# -- ingest -------------------------------------------------------------------------------------


@bp.post("/api/v1/alerts")
def ingest() -> Any:
    config = _config()
    body = request.get_data(cache=False)
    now = time.time()
    try:
        signed = signing.check_signature(config.alerts, request.headers, body, now)
        signing.claim_nonce(_redis(), config.alerts, signed)
    except signing.SignatureRefused as exc:
        return _error(exc.status, exc.reason)
    except redis_lib.RedisError:
        return _error(503, "store unavailable; nothing accepted, retry")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: [[[[…]]]] nested past the C stack
        return _error(400, "body is not JSON")
    is_batch = isinstance(document, list) or (isinstance(document, dict) and "alerts" in document)
    items = document if isinstance(document, list) else (
        document.get("alerts") if is_batch else [document])
    if not isinstance(items, list) or not items:
        return _error(422, "expected an alert object, a non-empty list, or {\"alerts\": [...]}")
    if len(items) > config.alerts.max_batch:
        return _error(413, f"at most {config.alerts.max_batch} alerts per request")
    fraud_types = set(load_library().types_by_id)
    try:
        results = accept(config, _redis(), items, signed.source, fraud_types, now)
    except NotReplicated:
        # On the master but on no replica: a failover now would lose it. Retrying with the same
        # alert_id is safe (idempotent) and answers 2xx once a replica has it.
        return _error(503, "not yet replicated; retry with the same alert_id")
    except redis_lib.RedisError:
        return _error(503, "store unavailable; nothing accepted, retry")
    if not is_batch:
        (result,) = results
        if result.status == INVALID:
            return jsonify({"alert_id": result.alert_id, "errors": list(result.errors)}), 422
        return jsonify(result.as_dict()), 202 if result.status == "accepted" else 200
    counts = {status: sum(1 for r in results if r.status == status)
              for status in ("accepted", "duplicate", "invalid")}
    status_code = 422 if counts["invalid"] == len(results) else 202
    return jsonify({**counts, "results": [r.as_dict() for r in results]}), status_code


# -- the alert desk (console JSON) ---------------------------------------------------------------


def _stations(state: dict[str, str]) -> list[str]:
    return [s for s in state.get("stations", "").split(",") if s]


def _check_area(state: dict[str, str]) -> None:
    scope = station_scope(g.user)
    if scope is not None and scope not in _stations(state):
        abort(403)


def _summary(alert_id: str, state: dict[str, str]) -> dict[str, Any]:
    vault = _vault()
    return {
        "alert_id": alert_id, "status": state.get("status", ""),
        "phone_masked": mask(vault.decrypt(state["phone_enc"])) if state.get("phone_enc") else "",
        "fraud_type": state.get("fraud_type", ""), "channel": state.get("channel", ""),
        "counterpart": state.get("counterpart", ""), "risk_level": state.get("risk_level", ""),
        "source": state.get("source", ""),
        "detected_ms": int(state.get("detected_ms") or 0),
        "received_ms": int(state.get("received_ms") or 0),
        "first_sent_ms": int(state.get("first_sent_ms") or 0) or None,
        "answer": state.get("answer") or None,
        "answered_ms": int(state.get("answered_ms") or 0) or None,
        "answers": _answers(state),
        "escalated_ms": int(state.get("escalated_ms") or 0) or None,
        "case_opened_ms": int(state.get("case_opened_ms") or 0) or None,
        "closed_ms": int(state.get("closed_ms") or 0) or None,
        "stations": _stations(state), "unregistered": state.get("unregistered") == "1",
    }


def _answers(state: dict[str, str]) -> list[dict[str, Any]]:
    """Each person's answer, the owner's first (alerts.answer_rules)."""
    rows = []
    for openid, role, answer in answer_rules.ordered_answers(answer_rules.parse(state)):
        _, at_ms, via = (state.get(answer_rules.answer_field(openid), "") + "||").split("|")[:3]
        rows.append({"openid": openid, "role": role, "answer": answer,
                     "at_ms": int(at_ms or 0) or None, "via": via})
    return rows


def _load(alert_id: str) -> dict[str, str]:
    state = _store().get(alert_id)
    if not state:
        abort(404)
    _check_area(state)
    return state


@bp.get("/api/v1/alerts")
@require_role(*STAFF_VIEW)
def list_alerts() -> Any:
    """Newest first for one Beijing-time day (``day=yyyymmdd``, default today);
    ``before_ms`` pages back; officers see their station's alerts only."""
    day = params.day(request.args, day_of(int(time.time() * 1000)))
    limit = params.page_size(request.args, 100, MAX_LIST)
    before = params.before_ms(request.args)
    station = station_scope(g.user) or request.args.get("station", "")
    store = _store()
    ids = store.list_day(day, station, limit, before)
    pipe = _redis().pipeline(transaction=False)
    for alert_id in ids:
        pipe.hgetall(keys.alert(alert_id))
    rows = [_summary(a, s) for a, s in zip(ids, pipe.execute(), strict=True) if s]
    return jsonify({"day": day, "alerts": rows,
                    "next_before_ms": rows[-1]["received_ms"] if len(rows) == limit else None})


@bp.get("/api/v1/alerts/<alert_id>")
@require_role(*STAFF_VIEW)
def alert_detail(alert_id: str) -> Any:
    state = _load(alert_id)
    recipients = []
    markers = _store().markers(alert_id)
    for item in [r for r in state.get("recipients", "").split(",") if r]:
        openid, _, role = item.partition(":")
        marker = markers.get(f"r:{openid}")
        answer = state.get(answer_rules.answer_field(openid), "").partition("|")[0]
        recipients.append({"openid": openid, "role": role, "answer": answer or None,
                           "delivery": marker.state if marker else "queued",
                           "channel": marker.channel if marker else "",
                           "at_ms": marker.at_ms if marker else None})
    checklist = json.loads(state["checklist"]) if state.get("checklist") else None
    library = load_library()
    return jsonify({**_summary(alert_id, state), "recipients": recipients,
                    "officers": [o for o in state.get("officers", "").split(",") if o],
                    "checklist": None if checklist is None else [
                        {"item": item, "label": library.reply(f"alert_checklist_{item}"),
                         "done": checklist.get(item)} for item in CHECKLIST]})


@bp.get("/api/v1/alerts/<alert_id>/timeline")
@require_role(*STAFF_VIEW)
def alert_timeline(alert_id: str) -> Any:
    _load(alert_id)
    return jsonify({"alert_id": alert_id, "timeline": _store().timeline(alert_id)})


@bp.post("/api/v1/alerts/<alert_id>/checklist")
@require_role(*STAFF_VIEW)
def tick_checklist(alert_id: str) -> Any:
    _load(alert_id)
    body = _desk_body()
    item, done = body.get("item"), body.get("done", True)
    if not isinstance(done, bool):
        return _error(422, "done must be true or false")
    if item not in CHECKLIST:
        return _error(422, f"item must be one of {', '.join(CHECKLIST)}")
    checklist = update_checklist(_store(), alert_id, item, done, g.user["username"],
                                 int(time.time() * 1000))
    if checklist is None:
        return _error(409, "this alert has no urgent case")
    audit.record(_redis(), "alert.checklist", alert_id, item=item, done=done)
    return jsonify({"alert_id": alert_id, "checklist": checklist})


@bp.post("/api/v1/alerts/<alert_id>/close")
@require_role(*STAFF_VIEW)
def close(alert_id: str) -> Any:
    _load(alert_id)
    note = _desk_note(_desk_body())
    closed = close_alert(_store(), alert_id, g.user["username"], note, int(time.time() * 1000))
    audit.record(_redis(), "alert.close", alert_id)
    return jsonify({"alert_id": alert_id, "closed": closed})


def _page_args() -> tuple[str, int, str]:
    """(station, limit, cursor) of a paged list (``api.params``: a bad value is a 400 naming it,
    a large ``limit`` is clamped). An officer always gets their own station; duty may pass
    ``station``."""
    limit = params.page_size(request.args, DEFAULT_PAGE, MAX_LIST)
    cursor = request.args.get("cursor", "")
    if cursor and not _CURSOR.fullmatch(cursor):
        params.refuse("cursor", "use next_cursor from the previous page")
    station = station_scope(g.user) or request.args.get("station", "")
    return station, limit, cursor


@bp.get("/api/v1/alerts/urgent")
@require_role(*STAFF_VIEW)
def urgent_cases() -> Any:
    """Open "已转账" cases with their stop-payment checklist, newest first, one page
    (``limit``, ``cursor`` = the previous page's ``next_cursor``); officers see their station."""
    station, limit, cursor = _page_args()
    store = _store()
    ids, next_cursor = store.urgent_cases(station, limit, cursor)
    pipe = _redis().pipeline(transaction=False)
    for alert_id in ids:
        pipe.hgetall(keys.alert(alert_id))
    rows = []
    for alert_id, state in zip(ids, pipe.execute(), strict=True):
        if not state:
            continue  # expired with retention; pruned from the list later
        checklist = json.loads(state.get("checklist") or "{}")
        rows.append({**_summary(alert_id, state),
                     "checklist": [{"item": i, "done": checklist.get(i)} for i in CHECKLIST]})
    return jsonify({"cases": rows, "next_cursor": next_cursor or None})


# -- 96110 call-back queue ------------------------------------------------------------------------


def _callback_view(entry: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in entry.items() if k != "phone_enc"}
    enc = entry.get("phone_enc")
    view["phone_masked"] = mask(_vault().decrypt(enc)) if enc else ""
    return view


def _callback_in_area(entry: dict[str, Any]) -> bool:
    scope = station_scope(g.user)
    return scope is None or scope in entry.get("stations", [])


@bp.get("/api/v1/alerts/callbacks")
@require_role(*STAFF_VIEW)
def callbacks() -> Any:
    """Open call-backs, newest first, one page (``limit``, ``cursor``); officers see their
    station's."""
    station, limit, cursor = _page_args()
    entries, next_cursor = _store().open_callbacks(station, limit, cursor)
    return jsonify({"callbacks": [_callback_view(e) for e in entries],
                    "next_cursor": next_cursor or None,
                    "outcomes": list(CALLBACK_OUTCOMES)})


@bp.post("/api/v1/alerts/callbacks/<path:entry_id>/outcome")
@require_role(*STAFF_VIEW)
def callback_outcome(entry_id: str) -> Any:
    body = _desk_body()
    outcome = body.get("outcome")
    if outcome not in CALLBACK_OUTCOMES:
        return _error(422, f"outcome must be one of {', '.join(CALLBACK_OUTCOMES)}")
    note = _desk_note(body)
    store = _store()
    entry = store.callback(entry_id)
    if entry is None or not _callback_in_area(entry):
        abort(404)
    now_ms = int(time.time() * 1000)
    updated = store.record_callback_outcome(entry_id, outcome, g.user["username"],
                                            note, now_ms)
    if updated is None:
        abort(404)  # pruned with retention meanwhile
    store.update(entry["alert_id"], event="callback", actor=f"staff:{g.user['username']}",
                 at_ms=now_ms, outcome=outcome, reason=entry["reason"])
    audit.record(_redis(), "alert.callback", entry_id, outcome=outcome)
    return jsonify({"callback": _callback_view(updated)})


@bp.post("/api/v1/alerts/callbacks/<path:entry_id>/reveal")
@require_role(*STAFF_VIEW)
def callback_reveal(entry_id: str) -> Any:
    """The full number, to dial it; every reveal is audited."""
    entry = _store().callback(entry_id)
    if entry is None or not _callback_in_area(entry) or not entry.get("phone_enc"):
        abort(404)
    audit.record(_redis(), "alert.reveal_phone", entry_id)
    return jsonify({"id": entry_id, "phone": _vault().decrypt(entry["phone_enc"])})


# -- dead letters, counts, funnel ------------------------------------------------------------------


def _queue() -> DurableQueue:
    return DurableQueue(_redis(), WARNINGS, _config().queue)


@bp.get("/api/v1/alerts/dead-letters")
@require_role("duty")
def dead_letters() -> Any:
    vault = _vault()
    rows = []
    for entry in _queue().dead_letters(MAX_LIST):
        payload = json.loads(entry.get("payload") or "{}")
        if "phone_enc" in payload:
            payload["phone_masked"] = mask(vault.decrypt(payload.pop("phone_enc")))
        payload.pop("phone_key", None)
        rows.append({**entry, "payload": payload})
    return jsonify({"dead_letters": rows})


@bp.post("/api/v1/alerts/dead-letters/<entry_id>/retry")
@require_role("duty")
def retry_dead_letter(entry_id: str) -> Any:
    if not _queue().retry_dead_letter(entry_id):
        abort(404)
    audit.record(_redis(), "alert.dead_letter_retry", entry_id)
    return jsonify({"retried": entry_id})


@bp.get("/api/v1/alerts/unregistered")
@require_role("duty")
def unregistered() -> Any:
    """Per Beijing-time day: alerts about numbers nobody registered, and distinct numbers."""
    days_back = params.day_count(request.args, 14, _config().alerts.retention_days)
    now_ms = int(time.time() * 1000)
    days = [day_of(now_ms - i * 86400_000) for i in range(days_back)]
    return jsonify({"days": _store().unregistered_counts(days)})


@bp.get("/api/v1/alerts/stats")
@require_role("duty")
def stats() -> Any:
    """Funnel counts and detection-to-warning latency, from the shared counters (no scans)."""
    values = tallies.snapshot(_redis())

    def total(name: str, exclude: str = "") -> int:
        return int(sum(v for k, v in values.items()
                       if (k == name or k.startswith(name + "{"))
                       and not (exclude and exclude in k)))

    latency = {k.split('le="')[1].rstrip('"}'): int(v) for k, v in values.items()
               if k.startswith("alerts_warning_latency_seconds_bucket")}
    return jsonify({
        "funnel": {
            "received": total("alerts_received_total"),
            "sent": total("alerts_warnings_sent_total", exclude='role="officer"'),
            "delivered": total("alerts_warnings_delivered_total"),
            "answered": total("alerts_answered_total"),
            "escalated": total("alerts_escalated_total"),
        },
        "answers": {a: int(values.get(f'alerts_answered_total{{answer="{a}"}}', 0))
                    for a in (SAFE, PAID)},
        "urgent_cases": total("alerts_urgent_cases_total"),
        "unregistered": total("alerts_unregistered_total"),
        "send_failures": total("alerts_send_failures_total"),
        "latency": {"count": int(values.get("alerts_warning_latency_seconds_count", 0)),
                    "sum_s": values.get("alerts_warning_latency_seconds_sum", 0.0),
                    "buckets": latency},
        "queue_depth": _queue().depth(),
    })


# -- the citizen's answer page (signed link in the warning) ---------------------------------------

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<style>body{font-family:sans-serif;margin:1.5em;max-width:32em}button{display:block;width:100%;
font-size:1.2em;padding:.8em;margin:.6em 0}.paid{background:#c0392b;color:#fff}</style></head>
<body><h1>{{ title }}</h1>
{% if message %}<p>{{ message }}</p>{% else %}<p>{{ prompt }}</p>
<form method="post"><button name="answer" value="safe">{{ safe }}</button>
<button class="paid" name="answer" value="paid">{{ paid }}</button></form>{% endif %}
</body></html>"""


# The page must not be framed (a framing page could trick a click on "安全"), cached or leak its
# token in a Referer.
_PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.route("/alerts/answer/<token>", methods=["GET", "POST"])
def answer_page(token: str) -> Any:
    """One person's answer link: records that person's answer only (the token names them)."""
    config = _config()
    library = load_library()
    texts = {"title": library.reply("alert_answer_page_title"),
             "prompt": library.reply("alert_answer_page_prompt"),
             "safe": library.reply("alert_answer_page_safe"),
             "paid": library.reply("alert_answer_page_paid"), "message": ""}
    now = time.time()
    answer_token = read_token(config.service.secret_key, token, now)

    def page(status: int = 200) -> Any:
        return render_template_string(_PAGE, **texts), status, _PAGE_HEADERS

    if answer_token is None:
        texts["message"] = library.reply("alert_answer_page_invalid")
        return page(404)
    alert_id, openid = answer_token.alert_id, answer_token.openid
    if request.method == "GET":
        if own_answer(_store(), alert_id, openid) == PAID:
            texts["message"] = library.reply("alert_answer_paid")  # nothing left to choose
        return page()
    answer = request.form.get("answer")
    if answer not in (SAFE, PAID):
        return page(400)
    if not allow_link_post(_redis(), alert_id, openid):
        texts["message"] = library.reply("alert_answer_page_too_many")
        return page(429)
    recorded = record_answer(config, _redis(), _queue(), alert_id, openid, answer, "link", now)
    if recorded is None:
        texts["message"] = library.reply("alert_answer_page_invalid")
        return page(404)
    texts["message"] = library.reply(reply_for(recorded))
    return page()
