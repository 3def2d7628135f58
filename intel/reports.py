"""Clue reports (举报): what a follower reports, kept for staff review, then promoted or dismissed.

A clue is a hash ``clue:{clues}:<id>`` plus its id in two sorted sets (pending review, all),
written in one MULTI under the ``{clues}`` hash tag. What the follower sent (text, numbers,
links, image URL/media id) may hold personal data, so it is stored AES-GCM encrypted with the
privacy key; only the review API decrypts it. Review is a WATCHed check-and-set on the clue, so
two officers cannot both decide the same clue.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import redis as redis_lib
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config import Config
from intel import risklist
from store import keys
from store.phones import PhoneVault
from store.redis import RedisClient

MAX_REPORTS_PER_DAY = 20
MAX_TEXT_CHARS = 2000
_AAD = b"clue"


class ClueError(Exception):
    """A review that cannot be applied."""


class ClueNotFound(ClueError):
    """No clue with that id."""


class AlreadyReviewed(ClueError):
    """Someone decided this clue already."""


@dataclass(frozen=True)
class Report:
    """What a follower sent, before it is stored (pure data)."""

    kind: str  # number | url | text | image
    text: str = ""
    pic_url: str = ""
    media_id: str = ""
    values: tuple[str, ...] = ()  # numbers / links found, candidates for the risk list
    suggested_type: str = ""


def report_from_text(text: str, extract: Callable[[str], Iterable[str]],
                     suggested_type: str = "") -> Report:
    """Classify a text report: a bare number or link, or a text with candidates in it."""
    text = text.strip()[:MAX_TEXT_CHARS]
    bare = risklist.normalize(text)
    if bare is not None:
        kind = "number" if bare.kind in ("mobile", "number") else "url"
        return Report(kind=kind, text=text, values=(text,), suggested_type=suggested_type)
    values = tuple(dict.fromkeys(v for v in extract(text) if risklist.normalize(v)))
    return Report(kind="text", text=text, values=values, suggested_type=suggested_type)


def report_from_image(pic_url: str, media_id: str) -> Report:
    return Report(kind="image", pic_url=pic_url, media_id=media_id)


def _cipher(config: Config) -> AESGCM:
    return AESGCM(PhoneVault.from_config(config.privacy).aes_key)


def _seal(config: Config, payload: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(config).encrypt(nonce, json.dumps(payload, ensure_ascii=False).encode(), _AAD)
    return base64.b64encode(nonce + sealed).decode("ascii")


def _open(config: Config, token: str) -> dict[str, Any]:
    raw = base64.b64decode(token)
    return dict(json.loads(_cipher(config).decrypt(raw[:12], raw[12:], _AAD)))


def day_of(now: float) -> str:
    # Beijing time: the follower's "per day" is the calendar day in China.
    return time.strftime("%Y%m%d", time.gmtime(now + 8 * 3600))


def may_report(redis: RedisClient, openid: str, now: float) -> bool:
    """Count one report attempt; False past MAX_REPORTS_PER_DAY (a flood is not a clue)."""
    key = keys.clue_rate(openid, day_of(now))
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, 2 * 86400)
    count, _ = pipe.execute()
    return int(count) <= MAX_REPORTS_PER_DAY


def create_clue(redis: RedisClient, config: Config, openid: str, report: Report,
                now: float) -> str:
    """Store a clue pending review; returns its id (shown to the follower as a receipt)."""
    clue_id = str(redis.incr(keys.clue_sequence()))
    created_ms = int(now * 1000)
    payload = {"text": report.text, "pic_url": report.pic_url, "media_id": report.media_id,
               "values": list(report.values)}
    record = {"id": clue_id, "openid": openid, "kind": report.kind, "status": "pending",
              "created_ms": str(created_ms), "suggested_type": report.suggested_type,
              "value_count": str(len(report.values)), "sealed": _seal(config, payload)}
    pipe = redis.pipeline(transaction=True)
    pipe.hset(keys.clue(clue_id), mapping=record)
    pipe.zadd(keys.clues_pending(), {clue_id: created_ms})
    pipe.zadd(keys.clues_all(), {clue_id: created_ms})
    pipe.execute()
    return clue_id


def attach_recognised_text(redis: RedisClient, config: Config, clue_id: str, text: str,
                           extract: Callable[[str], Iterable[str]],
                           suggested_type: str = "") -> bool:
    """Add a screenshot's recognised text to its image clue (sealed like the rest), with the
    numbers and links in it as candidates for the risk list. False if the clue is gone."""
    key = keys.clue(clue_id)
    text = text.strip()[:MAX_TEXT_CHARS]
    found = [v for v in extract(text) if risklist.normalize(v)]
    with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.hgetall(key)
                if not raw:
                    return False
                payload = _open(config, raw["sealed"]) if raw.get("sealed") else {}
                values = list(dict.fromkeys([*payload.get("values", []), *found]))
                payload.update(ocr_text=text, values=values)
                update = {"sealed": _seal(config, payload), "value_count": str(len(values))}
                if suggested_type and not raw.get("suggested_type"):
                    update["suggested_type"] = suggested_type
                pipe.multi()
                pipe.hset(key, mapping=update)
                pipe.execute()
                return True
            except redis_lib.WatchError:
                continue


def _public(config: Config, raw: dict[str, str]) -> dict[str, Any]:
    payload = _open(config, raw["sealed"]) if raw.get("sealed") else {}
    return {
        "id": raw["id"], "openid": raw.get("openid", ""), "kind": raw.get("kind", ""),
        "status": raw.get("status", ""), "created_ms": int(raw.get("created_ms", 0)),
        "suggested_type": raw.get("suggested_type") or None,
        "text": payload.get("text", ""), "pic_url": payload.get("pic_url", ""),
        "media_id": payload.get("media_id", ""), "values": payload.get("values", []),
        "ocr_text": payload.get("ocr_text", ""),
        "reviewed_by": raw.get("reviewed_by") or None,
        "reviewed_ms": int(raw["reviewed_ms"]) if raw.get("reviewed_ms") else None,
        "fraud_type": raw.get("fraud_type") or None, "note": raw.get("note", ""),
        "promoted": json.loads(raw.get("promoted", "[]")),
    }


def get_clue(redis: RedisClient, config: Config, clue_id: str) -> dict[str, Any] | None:
    raw = redis.hgetall(keys.clue(clue_id))
    return _public(config, raw) if raw else None


def list_clues(redis: RedisClient, config: Config, *, status: str = "pending", limit: int = 50,
               before_ms: int | None = None) -> list[dict[str, Any]]:
    """Newest first: the review queue (``pending``) or every clue (``all``); page with
    ``before_ms`` = the last item's ``created_ms``."""
    index = keys.clues_pending() if status == "pending" else keys.clues_all()
    high = f"({before_ms}" if before_ms is not None else "+inf"
    ids = redis.zrevrangebyscore(index, high, "-inf", start=0, num=limit)
    return [clue for clue in (get_clue(redis, config, i) for i in ids) if clue]


def _displays(values: list[str]) -> list[str]:
    """Masked forms, for the record and the audit log (no plain numbers there)."""
    return [n.display for n in map(risklist.normalize, values) if n is not None]


def review_clue(redis: RedisClient, config: Config, clue_id: str, *, decision: str,
                reviewer: str, now: float, fraud_type: str = "other",
                values: list[str] | None = None, note: str = "") -> dict[str, Any]:
    """Promote the clue's numbers/links into the risk list, or dismiss it. Raises ClueNotFound,
    AlreadyReviewed, or ClueError for a bad decision or values the clue does not hold."""
    if decision not in ("promote", "dismiss"):
        raise ClueError("decision must be promote or dismiss")
    key = keys.clue(clue_id)
    with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                raw = pipe.hgetall(key)
                if not raw:
                    raise ClueNotFound(clue_id)
                if raw.get("status") != "pending":
                    raise AlreadyReviewed(clue_id)
                chosen: list[str] = []
                if decision == "promote":
                    held = _open(config, raw["sealed"]).get("values", [])
                    chosen = list(held) if values is None else values
                    if not chosen:
                        raise ClueError("the clue holds no number or link to promote")
                    if any(v not in held for v in chosen):
                        raise ClueError("values must be among the clue's values")
                status = "promoted" if decision == "promote" else "dismissed"
                pipe.multi()
                pipe.hset(key, mapping={
                    "status": status, "reviewed_by": reviewer,
                    "reviewed_ms": str(int(now * 1000)), "note": note[:500],
                    "fraud_type": fraud_type if decision == "promote" else "",
                    "promoted": json.dumps(_displays(chosen), ensure_ascii=False)})
                pipe.zrem(keys.clues_pending(), clue_id)
                pipe.execute()
                break
            except redis_lib.WatchError:
                continue
    # After the clue is decided: a crash here loses a promotion, never promotes twice.
    for value in chosen:
        risklist.promote(redis, risklist.risk_key(config.privacy), value, fraud_type, reviewer,
                         now, clue_id=clue_id)
    result = get_clue(redis, config, clue_id)
    assert result is not None
    return result
