"""Audit log API (admin only).

    GET /api/v1/audit?actor=&action=<prefix>&limit=200&before=<entry id>   newest first
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from api import params
from console import audit
from console.auth import require_role

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1")


@bp.get("/audit")
@require_role()
def list_entries() -> Any:
    limit = params.page_size(request.args, 200, 1000)
    rows = audit.entries(current_app.config["REDIS"], actor=request.args.get("actor", ""),
                         action=request.args.get("action", ""), limit=limit,
                         before=params.before_entry(request.args))
    return jsonify({"entries": rows})
