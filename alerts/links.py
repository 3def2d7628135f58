"""Signed answer links: a follower taps the link in the warning instead of replying "1"/"2".

The token is ``<payload>.<mac>``: payload = urlsafe base64 of ``alert_id openid expiry_s``,
mac = first 16 bytes of HMAC-SHA256(service.secret_key, payload). Nobody can forge an answer for
another follower or alert without the key. Pure functions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

LINK_PATH = "/alerts/answer/"
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]{1,512}")


@dataclass(frozen=True)
class AnswerToken:
    alert_id: str
    openid: str
    expires_s: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), b"alert-answer:" + payload.encode("ascii"),
                      hashlib.sha256).digest()
    return _b64(digest[:16])


def make_token(secret: str, alert_id: str, openid: str, expires_s: int) -> str:
    payload = _b64(f"{alert_id} {openid} {expires_s}".encode())
    return f"{payload}.{_mac(secret, payload)}"


def read_token(secret: str, token: str, now: float) -> AnswerToken | None:
    """The token's contents if the MAC is right and it has not expired, else None."""
    payload, _, mac = token.partition(".")
    # A token is URL-safe base64 only; anything else (non-ASCII from a mangled link) is
    # refused before the MAC, which needs ASCII.
    if not (_TOKEN_PART.fullmatch(payload) and _TOKEN_PART.fullmatch(mac)):
        return None
    if not hmac.compare_digest(_mac(secret, payload), mac):
        return None
    try:
        alert_id, openid, expires = _unb64(payload).decode("utf-8").split(" ")
        expires_s = int(expires)
    except ValueError:
        return None
    if now > expires_s:
        return None
    return AnswerToken(alert_id, openid, expires_s)


def answer_url(public_url: str, secret: str, alert_id: str, openid: str, expires_s: int) -> str:
    return public_url.rstrip("/") + LINK_PATH + make_token(secret, alert_id, openid, expires_s)
