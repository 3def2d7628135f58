"""Phone numbers as personal data: validated, then kept only as an HMAC lookup key and an
encrypted copy for masked display (138****5678). The plain number never reaches Redis or logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config import PrivacyConfig

# Mainland mobile numbers: 11 digits starting 13-19 (MIIT numbering plan).
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


class InvalidPhone(ValueError):
    pass


def normalize_mobile(raw: str) -> str:
    """'+86 138-1234-5678' → '13812345678'; anything not a mainland mobile raises InvalidPhone."""
    text = _SEPARATORS.sub("", raw or "")
    text = text.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix):]
            break
    if not _MOBILE.match(text):
        raise InvalidPhone("not a mainland mobile number")
    return text


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


@dataclass(frozen=True)
class PhoneVault:
    """Keyed hashing and encryption of phone numbers, keys from config."""

    hmac_key: bytes
    aes_key: bytes

    @classmethod
    def from_config(cls, privacy: PrivacyConfig) -> "PhoneVault":
        raw = base64.urlsafe_b64decode(privacy.phone_encryption_key.encode())
        if len(raw) != 32:
            raise ValueError("privacy.phone_encryption_key must be urlsafe base64 of 32 bytes")
        return cls(privacy.phone_hmac_key.encode("utf-8"), raw)

    def lookup_key(self, phone: str) -> str:
        """22-char keyed hash: equal numbers meet, and without the key nobody can enumerate
        the 10^10 possible numbers against it (a plain hash would fall to that in minutes)."""
        digest = hmac.new(self.hmac_key, phone.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")

    def encrypt(self, phone: str) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.aes_key).encrypt(nonce, phone.encode("ascii"), b"phone")
        return base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> str:
        raw = base64.b64decode(token)
        return AESGCM(self.aes_key).decrypt(raw[:12], raw[12:], b"phone").decode("ascii")

    def masked(self, token: str) -> str:
        return mask(self.decrypt(token))
