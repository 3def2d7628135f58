"""Staff accounts API (admin only).

    GET    /api/v1/accounts               every account (never the hash)
    POST   /api/v1/accounts               {"username", "password", "role", "station"?} → 201
    DELETE /api/v1/accounts/<username>    → 204; 404 unknown; 400 for your own account
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request

from console import accounts, audit
from console.auth import require_role

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")


def _redis() -> Any:
    return current_app.config["REDIS"]


@bp.get("/accounts")
@require_role()
def list_accounts() -> Any:
    return jsonify({"accounts": accounts.list_accounts(_redis())})


@bp.post("/accounts")
@require_role()
def create_account() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object")
    username, role = str(body.get("username", "")), str(body.get("role", ""))
    station = str(body.get("station", "")) if role == "officer" else ""
    try:
        accounts.create_account(_redis(), username, str(body.get("password", "")), role, station)
    except accounts.AccountError as exc:
        return jsonify({"errors": [str(exc)]}), 422
    audit.record(_redis(), "account.create", username, role=role, station=station)
    return jsonify({"username": username, "role": role, "station": station}), 201


@bp.delete("/accounts/<username>")
@require_role()
def delete_account(username: str) -> Any:
    if username == g.user["username"]:
        return jsonify({"errors": ["you cannot delete your own account"]}), 400
    if not accounts.delete_account(_redis(), username):
        abort(404)
    audit.record(_redis(), "account.delete", username)
    return "", 204
