"""Audit log API (admin only).

    GET /api/v1/audit?actor=&action=<prefix>&limit=200&before=<entry id>   newest first
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from console import audit
from console.auth import require_role

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")


@bp.get("/audit")
@require_role()
def list_entries() -> Any:
    limit = min(max(request.args.get("limit", 200, type=int) or 200, 1), 1000)
    rows = audit.entries(current_app.config["REDIS"], actor=request.args.get("actor", ""),
                         action=request.args.get("action", ""), limit=limit,
                         before=request.args.get("before", "+"))
    return jsonify({"entries": rows})
