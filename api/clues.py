"""Clue review API (role duty or admin): followers' reports, promoted into the risk list or
dismissed. Every decision goes to the audit log.

    GET  /api/v1/clues?status=pending|all&limit=50&before_ms=   newest first
    GET  /api/v1/clues/<id>
    POST /api/v1/clues/<id>/review
         {"decision": "promote"|"dismiss", "fraud_type", "values"?, "note"?}
         → 200 the reviewed clue; 404 unknown; 409 already reviewed; 422 bad decision/type/values
    GET  /api/v1/risk?value=<number or URL>   the risk-list record, 404 when not listed
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request

from api import params
from console import audit
from console.auth import require_role
from content.store import effective_library
from intel import reports, risklist

bp = Blueprint("clues_api", __name__, url_prefix="/api/v1")


def _redis() -> Any:
    return current_app.config["REDIS"]


def _config() -> Any:
    return current_app.config["ENDFRAUD"]


@bp.get("/clues")
@require_role("duty")
def list_clues() -> Any:
    status = params.choice(request.args, "status", ("pending", "all"), "pending")
    limit = params.page_size(request.args, 50, 200)
    before_ms = params.before_ms(request.args)
    items = reports.list_clues(_redis(), _config(), status=status, limit=limit,
                               before_ms=before_ms)
    return jsonify({"clues": items})


@bp.get("/clues/<clue_id>")
@require_role("duty")
def get_clue(clue_id: str) -> Any:
    clue = reports.get_clue(_redis(), _config(), clue_id) if clue_id.isdigit() else None
    if clue is None:
        abort(404)
    return jsonify(clue)


@bp.post("/clues/<clue_id>/review")
@require_role("duty")
def review_clue(clue_id: str) -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not clue_id.isdigit():
        abort(400, description="expected a JSON object")
    decision = body.get("decision")
    fraud_type = body.get("fraud_type") or "other"
    values = body.get("values")
    if fraud_type not in effective_library(_redis()).types_by_id:
        return jsonify({"errors": [f"fraud_type: unknown type {fraud_type!r}"]}), 422
    if values is not None and (not isinstance(values, list)
                               or not all(isinstance(v, str) for v in values)):
        return jsonify({"errors": ["values: must be a list of strings"]}), 422
    try:
        clue = reports.review_clue(_redis(), _config(), clue_id, decision=str(decision),
                                   reviewer=g.user["username"], now=time.time(),
                                   fraud_type=fraud_type, values=values,
                                   note=str(body.get("note", "")))
    except reports.ClueNotFound:
        abort(404)
    except reports.AlreadyReviewed:
        return jsonify({"errors": ["clue already reviewed"]}), 409
    except reports.ClueError as exc:
        return jsonify({"errors": [str(exc)]}), 422
    # Masked values only: the audit log must not hold phone numbers.
    audit.record(_redis(), f"clue.{decision}", f"clue:{clue_id}", fraud_type=clue["fraud_type"],
                 promoted=clue["promoted"])
    return jsonify(clue)


@bp.get("/risk")
@require_role("duty")
def risk_record() -> Any:
    record = risklist.lookup(_redis(), risklist.risk_key(_config().privacy),
                             request.args.get("value", ""))
    if record is None:
        abort(404)
    return jsonify(record)
