"""One screenshot check's result, kept 7 days: ``shot:<job_id>`` (a hash, single-key writes).

Fields: ``status`` (``read`` / ``no_text`` / a refusal such as ``screenshot_truncated``),
``reply`` (the answer's name), ``line_count``, ``ocr_ms``, ``fraud_type``, ``sealed`` (the
recognised lines, AES-GCM with the privacy key: a chat screenshot is personal data) and
``sent_ms``, the marker that makes the customer-service answer go out once per job.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any, cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config import Config
from store import keys
from store.phones import PhoneVault
from store.redis import RedisClient

RESULT_TTL_S = 7 * 24 * 3600
_AAD = b"screenshot"


def _cipher(config: Config) -> AESGCM:
    return AESGCM(PhoneVault.from_config(config.privacy).aes_key)


def seal_text(config: Config, text: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(config).encrypt(nonce, text.encode(), _AAD)).decode()


def open_text(config: Config, token: str) -> str:
    raw = base64.b64decode(token)
    return _cipher(config).decrypt(raw[:12], raw[12:], _AAD).decode()


def record(redis: RedisClient, config: Config, job_id: str, *, status: str, reply: str,
           text: str = "", line_count: int = 0, ocr_ms: int = 0, fraud_type: str = "") -> None:
    key = keys.screenshot_result(job_id)
    pipe = redis.pipeline(transaction=True)
    pipe.hset(key, mapping={"status": status, "reply": reply, "line_count": str(line_count),
                            "ocr_ms": str(ocr_ms), "fraud_type": fraud_type,
                            "sealed": seal_text(config, text) if text else ""})
    pipe.expire(key, RESULT_TTL_S)
    pipe.execute()


def get(redis: RedisClient, config: Config, job_id: str) -> dict[str, Any] | None:
    """The result with its text opened, or None."""
    raw: dict[str, str] = cast(dict[str, str], redis.hgetall(keys.screenshot_result(job_id)))
    if not raw:
        return None
    text = open_text(config, raw["sealed"]) if raw.get("sealed") else ""
    return {"status": raw.get("status", ""), "reply": raw.get("reply", ""),
            "line_count": int(raw.get("line_count") or 0), "ocr_ms": int(raw.get("ocr_ms") or 0),
            "fraud_type": raw.get("fraud_type") or None, "text": text,
            "sent_ms": int(raw["sent_ms"]) if raw.get("sent_ms") else None}


def claim_send(redis: RedisClient, job_id: str, now: float | None = None) -> bool:
    """True once per job: the caller sends the answer (and calls ``release_send`` if it fails)."""
    key = keys.screenshot_result(job_id)
    stamp = str(int((time.time() if now is None else now) * 1000))
    pipe = redis.pipeline(transaction=True)
    pipe.hsetnx(key, "sent_ms", stamp)
    pipe.expire(key, RESULT_TTL_S)
    claimed, _ = pipe.execute()
    return bool(claimed)


def release_send(redis: RedisClient, job_id: str) -> None:
    redis.hdel(keys.screenshot_result(job_id), "sent_ms")
