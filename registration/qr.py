"""Permanent parametric QR codes, one per officer and per community, created once.

``QR_LIMIT_STR_SCENE`` codes never expire and an account may hold at most 100,000 of them
(https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html),
so a code is created on first use and its ticket and URL are cached in ``reg:{dir}:qr``.
The ``url`` WeChat returns is what the QR image encodes; posters render it locally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from store import keys
from store.redis import RedisClient

MAX_SCENE_CHARS = 64


@dataclass(frozen=True)
class QrCode:
    scene: str
    ticket: str
    url: str


def cached_qr(redis: RedisClient, scene: str) -> QrCode | None:
    raw = redis.hget(keys.qr_codes(), scene)
    if not raw:
        return None
    data = json.loads(raw)
    return QrCode(scene, data["ticket"], data["url"])


def ensure_qr(redis: RedisClient, wechat: Any, scene: str) -> QrCode:
    """The scene's permanent code: from the cache, else created through the WeChat API."""
    if not 1 <= len(scene) <= MAX_SCENE_CHARS:
        raise ValueError(f"scene string must be 1..{MAX_SCENE_CHARS} characters")
    found = cached_qr(redis, scene)
    if found is not None:
        return found
    result = wechat.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE",
                                   "action_info": {"scene": {"scene_str": scene}}})
    # WeChat answers the same ticket for the same permanent scene, so a race is harmless;
    # HSETNX keeps the first answer.
    redis.hsetnx(keys.qr_codes(), scene, json.dumps({"ticket": result["ticket"],
                                                     "url": result["url"]}))
    cached = cached_qr(redis, scene)
    assert cached is not None
    return cached
