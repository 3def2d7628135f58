"""Phone numbers as personal data: validated, then kept only as an HMAC lookup key and an
encrypted copy for masked display (138****5678). The plain number never reaches Redis or logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from config import PrivacyConfig

# Mainland mobile numbers: 11 digits starting 13-19 (MIIT numbering plan). ASCII digits only:
# Python's \d also matches Arabic-Indic and other digits, which would make a second lookup key.
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_CODE = re.compile(r"[0-9]{6}")
# What people type between digit groups, after NFKC has folded full-width forms (１, ＋, －, the
# ideographic space) to ASCII: spaces, every dash Unicode has, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc.\u00b7()\[\]]")
# Longer than any real number with separators; refuses a pasted essay before NFKC works on it.
MAX_TYPED_CHARS = 64


class InvalidPhone(ValueError):
    pass


def compact(typed: str) -> str:
    """What a person typed, reduced to the characters that carry meaning (pure).

    NFKC folds full-width digits and signs from Chinese input methods (``１３９``, ``＋８６``) to
    ASCII; then spaces, dashes, dots and brackets between digit groups go. Used for phone
    numbers (binding, guarding, alerts, 查号) and one-time codes alike.
    """
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", (typed or "")[:MAX_TYPED_CHARS]))


def normalize_mobile(raw: str) -> str:
    """'+86 １３８-1234-5678' → '13812345678'; anything not a mainland mobile raises
    InvalidPhone."""
    if not isinstance(raw, str) or len(raw) > MAX_TYPED_CHARS:
        raise InvalidPhone("not a mainland mobile number")
    text = compact(raw)
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix):]
            break
    if not _MOBILE.fullmatch(text):
        raise InvalidPhone("not a mainland mobile number")
    return text


def normalize_code(raw: str) -> str | None:
    """A typed one-time code as six ASCII digits ('１２３ ４５６' → '123456'), else None."""
    if not isinstance(raw, str) or len(raw) > MAX_TYPED_CHARS:
        return None
    text = compact(raw)
    return text if _CODE.fullmatch(text) else None


def count_digits(typed: str) -> int:
    """ASCII digits in the compacted text: how much a message looks like a number."""
    return sum("0" <= ch <= "9" for ch in compact(typed))


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


@dataclass(frozen=True)
class PhoneVault:
    """Keyed hashing and encryption of phone numbers, keys from config."""

    hmac_key: bytes
    aes_key: bytes

    @classmethod
    def from_config(cls, privacy: PrivacyConfig) -> PhoneVault:
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
