"""Request signing for the alert ingest API: per-source HMAC-SHA256, time window, nonce replay.

The warning platform sends ``X-Alert-Source``, ``X-Alert-Timestamp`` (unix seconds),
``X-Alert-Nonce`` (8-64 characters, new per request) and ``X-Alert-Signature`` = hex
HMAC-SHA256(source key, ``"<timestamp>\\n<nonce>\\n"`` + raw body). The nonce is inside the MAC,
otherwise a captured request could be replayed within the window under a fresh nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Protocol

from config import AlertsConfig
from store import keys
from store.redis import RedisClient

NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
HEADERS = ("X-Alert-Source", "X-Alert-Timestamp", "X-Alert-Nonce", "X-Alert-Signature")


class SignatureRefused(Exception):
    """The request is not from a known source, is stale, replayed or wrongly signed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"\n" + nonce.encode("ascii") + b"\n" + body
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(source: str, key: str, body: bytes, now: float, nonce: str) -> dict[str, str]:
    """Headers a platform sends (used by the demo script, benchmark and tests)."""
    timestamp = str(int(now))
    return {"Content-Type": "application/json", "X-Alert-Source": source,
            "X-Alert-Timestamp": timestamp, "X-Alert-Nonce": nonce,
            "X-Alert-Signature": sign(key, timestamp, nonce, body)}


@dataclass(frozen=True)
class SignedRequest:
    source: str
    nonce: str


class HeaderLookup(Protocol):
    """What the check reads: werkzeug's case-insensitive ``Headers``, or a plain dict."""

    def get(self, key: str, default: str, /) -> str: ...


def check_signature(config: AlertsConfig, headers: HeaderLookup, body: bytes,
                    now: float) -> SignedRequest:
    """Pure part: known source, fresh timestamp, valid MAC. Raises ``SignatureRefused``."""
    source = headers.get("X-Alert-Source", "")
    timestamp = headers.get("X-Alert-Timestamp", "")
    nonce = headers.get("X-Alert-Nonce", "")
    signature = headers.get("X-Alert-Signature", "")
    if not (source and timestamp and nonce and signature):
        raise SignatureRefused(401, "missing X-Alert-Source/-Timestamp/-Nonce/-Signature")
    key = config.source_key(source)
    if key is None:
        raise SignatureRefused(401, "unknown source")
    # Shapes first, with ASCII-only patterns: str.isdigit() is True for "²" and "１", which
    # int() or .encode("ascii") then refuse with an exception (a 500, not a 401).
    if not TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > config.signature_window_s:
        raise SignatureRefused(401, "timestamp outside the allowed window")
    if not NONCE.fullmatch(nonce):
        raise SignatureRefused(401, "nonce must be 8-64 characters of A-Z a-z 0-9 _ -")
    if not SIGNATURE.fullmatch(signature):
        raise SignatureRefused(401, "signature must be 64 hex digits")
    if not hmac.compare_digest(sign(key, timestamp, nonce, body), signature.lower()):
        raise SignatureRefused(401, "bad signature")
    return SignedRequest(source, nonce)


def claim_nonce(redis: RedisClient, config: AlertsConfig, request: SignedRequest) -> None:
    """Refuse a nonce seen within the window (kept twice the window: either side of now)."""
    if not redis.set(keys.alert_nonce(request.source, request.nonce), "1", nx=True,
                     ex=2 * config.signature_window_s):
        raise SignatureRefused(409, "nonce already used (replayed request)")
