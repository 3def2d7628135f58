"""Staff edits to the content library, versioned in Redis on top of the shipped data files.

An edit replaces one whole item (a fraud type, article, FAQ entry or reply) by id. Before it is
saved, the shipped documents plus every current override plus the new item are validated as a
whole with ``build_library``; a bad edit raises ``ContentError`` and writes nothing.

Keys come from ``store/keys.py`` (the ``{content}`` hash tag: one cluster slot per save).
"""

from __future__ import annotations

import copy
import json
import time
import weakref
from types import ModuleType
from typing import Any

import redis

from content.library import ContentError, Library, build_library, read_documents
from store import keys as keys_content

# kind → (document name, how items are addressed in it)
KINDS = {
    "fraud_type": "fraud_types",
    "article": "articles",
    "faq": "faq",
    "reply": "replies",
}


def _item_id(kind: str, item: dict[str, Any]) -> str:
    item_id = item.get("id") if kind != "reply" else item.get("name")
    if not isinstance(item_id, str) or not item_id:
        field = "name" if kind == "reply" else "id"
        raise ContentError([f"{kind}: {field}: missing or not a string"])
    return item_id


def _apply(docs: dict[str, Any], kind: str, item: dict[str, Any]) -> None:
    """Put ``item`` into the raw documents, replacing the item with the same id."""
    doc_name = KINDS[kind]
    if kind == "reply":
        body = {k: v for k, v in item.items() if k != "name"}
        docs[doc_name][item["name"]] = body
        return
    items = docs[doc_name]
    for index, existing in enumerate(items):
        if isinstance(existing, dict) and existing.get("id") == item["id"]:
            items[index] = item
            return
    items.append(item)


def _overrides(r: redis.Redis, keys: ModuleType) -> list[tuple[str, dict[str, Any]]]:
    raw = r.hgetall(keys.content_current())
    out = []
    for field, value in sorted(raw.items()):
        field = field.decode() if isinstance(field, bytes) else field
        kind = field.split(":", 1)[0]
        out.append((kind, json.loads(value)["item"]))
    return out


def _effective_docs(r: redis.Redis, keys: ModuleType) -> dict[str, Any]:
    docs = copy.deepcopy(read_documents())
    for kind, item in _overrides(r, keys):
        _apply(docs, kind, item)
    return docs


def effective_documents(r: redis.Redis, keys: ModuleType = keys_content) -> dict[str, Any]:
    """The raw documents (shipped + every staff edit), e.g. for listing items in the staff API."""
    return _effective_docs(r, keys)


_UNREAD = object()


def effective_library(r: redis.Redis, keys: ModuleType = keys_content,
                      revision: Any = _UNREAD) -> Library:
    """The shipped library with every saved staff edit applied.

    Building it costs milliseconds (copy + validate every document), far too much for each
    webhook message, so the built library is cached per process and per store and rebuilt only
    when the content revision counter moves (one GET per call, or none when the caller already
    read ``revision`` in a pipeline of its own, as the webhook does).
    """
    if revision is _UNREAD:
        revision = r.get(keys.content_revision())
    cached = _LIBRARY_CACHE.get(r)
    if cached is not None and cached[0] == revision:
        return cached[1]
    library = build_library(_effective_docs(r, keys))
    _LIBRARY_CACHE[r] = (revision, library)
    return library


# redis client → (content revision when built, library); weak, so a closed client's entry goes.
_LIBRARY_CACHE: weakref.WeakKeyDictionary[Any, tuple[Any, Library]] = weakref.WeakKeyDictionary()


def save_item(
    r: redis.Redis,
    kind: str,
    item: dict[str, Any],
    editor: str,
    *,
    keys: ModuleType = keys_content,
    now_ms: int | None = None,
) -> int:
    """Validate and save a new version of one item; return its version number (1, 2, …)."""
    if kind not in KINDS:
        raise ContentError([f"{kind}: unknown content kind, expected one of {sorted(KINDS)}"])
    item_id = _item_id(kind, item)
    history_key = keys.content_history(kind, item_id)
    current_key = keys.content_current()
    saved_at_ms = now_ms if now_ms is not None else int(time.time() * 1000)

    def attempt(pipe: redis.client.Pipeline) -> int:
        # Validate against what is current *inside* the WATCH, so two editors cannot both
        # pass validation on a state that one of them is about to change.
        docs = _effective_docs(pipe, keys)
        _apply(docs, kind, copy.deepcopy(item))
        build_library(docs)
        version = int(pipe.llen(history_key)) + 1
        record = json.dumps(
            {"version": version, "editor": editor, "saved_at_ms": saved_at_ms, "item": item},
            ensure_ascii=False,
        )
        pipe.multi()
        pipe.rpush(history_key, record)
        pipe.hset(current_key, f"{kind}:{item_id}", record)
        pipe.incr(keys.content_revision())
        return version

    return int(
        r.transaction(attempt, history_key, current_key, value_from_callable=True)
    )


def get_item(
    r: redis.Redis, kind: str, item_id: str, *, keys: ModuleType = keys_content
) -> dict[str, Any] | None:
    """The latest saved record ({version, editor, saved_at_ms, item}) or None if never edited."""
    raw = r.hget(keys.content_current(), f"{kind}:{item_id}")
    return json.loads(raw) if raw else None


def history(
    r: redis.Redis, kind: str, item_id: str, *, keys: ModuleType = keys_content
) -> list[dict[str, Any]]:
    """Every saved version of an item, oldest first."""
    return [json.loads(v) for v in r.lrange(keys.content_history(kind, item_id), 0, -1)]
