"""Staff content API (role propaganda or admin): fraud types, articles, FAQ and reply texts.

    GET  /api/v1/content/<kind>               every item (shipped + staff edits)
    GET  /api/v1/content/<kind>/<id>          one item and its current version
    POST /api/v1/content/<kind>               create (409 when the id exists)
    PUT  /api/v1/content/<kind>/<id>          replace the item with a new version
    GET  /api/v1/content/<kind>/<id>/history  every saved version, oldest first
    POST /api/v1/menu                         publish the custom menu through the WeChat API

kind: fraud_type | article | faq | reply (replies are addressed by ``name``). An edit that does
not validate is answered 422 with the validator's errors, and nothing is saved. A reply's fields
are fixed by code (``content/reply_fields.py``): an edit may reword it with the same plain
``{field}`` placeholders, never add, drop or format one; each reply is test-rendered first.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from requests import RequestException
from wechatpy.exceptions import WeChatClientException

from bot.menu import create_menu
from console import audit
from console.auth import require_role
from content import store
from content.library import ContentError
from content.reply_fields import REPLY_FIELDS

bp = Blueprint("content_api", __name__, url_prefix="/api/v1")


def _redis() -> Any:
    return current_app.config["REDIS"]


def _kind(kind: str) -> str:
    if kind not in store.KINDS:
        abort(404)
    return kind


def _items(kind: str) -> dict[str, dict[str, Any]]:
    doc = store.effective_documents(_redis())[store.KINDS[kind]]
    if kind == "reply":
        # The fields shown are the code's (content.reply_fields), whatever an edit carried.
        return {name: {"name": name, **body, "fields": sorted(REPLY_FIELDS.get(name, ()))}
                for name, body in doc.items()}
    return {item["id"]: item for item in doc}


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="expected a JSON object")
    return body


def _save(kind: str, item: dict[str, Any], action: str) -> Any:
    user = g.user
    try:
        version = store.save_item(_redis(), kind, item, user["username"])
    except ContentError as exc:
        return jsonify({"errors": exc.errors}), 422
    item_id = item["name"] if kind == "reply" else item["id"]
    audit.record(_redis(), action, f"{kind}:{item_id}", version=version)
    return jsonify({"kind": kind, "id": item_id, "version": version, "item": item})


@bp.get("/content/<kind>")
@require_role("propaganda")
def list_items(kind: str) -> Any:
    items = _items(_kind(kind))
    return jsonify({"kind": kind, "items": list(items.values())})


@bp.get("/content/<kind>/<item_id>")
@require_role("propaganda")
def get_item(kind: str, item_id: str) -> Any:
    item = _items(_kind(kind)).get(item_id)
    if item is None:
        abort(404)
    saved = store.get_item(_redis(), kind, item_id)
    return jsonify({"kind": kind, "id": item_id, "item": item,
                    "version": saved["version"] if saved else 0,
                    "editor": saved["editor"] if saved else None,
                    "saved_at_ms": saved["saved_at_ms"] if saved else None})


@bp.post("/content/<kind>")
@require_role("propaganda")
def create_item(kind: str) -> Any:
    item = _body()
    item_id = item.get("name" if _kind(kind) == "reply" else "id")
    if isinstance(item_id, str) and item_id in _items(kind):
        return jsonify({"errors": [f"{kind} {item_id!r} exists; use PUT to edit it"]}), 409
    return _save(kind, item, "content.create")


@bp.put("/content/<kind>/<item_id>")
@require_role("propaganda")
def edit_item(kind: str, item_id: str) -> Any:
    item = _body()
    id_field = "name" if _kind(kind) == "reply" else "id"
    if item.setdefault(id_field, item_id) != item_id:
        return jsonify({"errors": [f"{id_field}: does not match the URL"]}), 422
    if item_id not in _items(kind):
        abort(404)
    return _save(kind, item, "content.edit")


@bp.get("/content/<kind>/<item_id>/history")
@require_role("propaganda")
def item_history(kind: str, item_id: str) -> Any:
    return jsonify({"kind": _kind(kind), "id": item_id,
                    "versions": store.history(_redis(), kind, item_id)})


@bp.post("/menu")
@require_role("admin")
def publish_menu() -> Any:
    try:
        menu = create_menu(current_app.config["ENDFRAUD"], _redis())
    except WeChatClientException as exc:
        return jsonify({"error": "wechat", "errcode": exc.errcode, "errmsg": exc.errmsg}), 502
    except RequestException as exc:
        return jsonify({"error": "unreachable", "errmsg": type(exc).__name__}), 502
    audit.record(_redis(), "menu.publish", "menu")
    return jsonify({"ok": True, "menu": menu})
