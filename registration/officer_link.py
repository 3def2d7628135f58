"""Linking an officer's own WeChat to their directory record, so escalation notices reach them.

An officer's record carries the openid that "paid" and "unanswered" notices go to, but staff
cannot know an openid: WeChat only reveals it to the account, per follower. So staff issue a
one-time code for the officer (console or ``POST /api/v1/officers/<id>/link-code``), and the
officer, following the account on their own phone, sends ``警员绑定 <code>``.

Whoever holds a code becomes that officer's notice recipient, so the code is the secret:
8 random digits, single use (``GETDEL``), alive 15 minutes, stored only as a digest (a Redis
dump does not reveal live codes), and guesses are limited per openid, so a follower cannot make
themselves an officer by trying codes. Issuing a new code does not cancel an older live one;
both expire within the quarter hour.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace

from registration import directory as d
from registration.limits import within_limit
from store import keys
from store.redis import RedisClient

CODE_DIGITS = 8
CODE_TTL_S = 900
GUESSES_PER_HOUR = 5
COMMAND = "警员绑定"


@dataclass(frozen=True)
class LinkResult:
    kind: str  # linked | invalid | limited
    officer: d.Officer | None = None


def _digest(code: str) -> str:
    return hashlib.sha256(f"officer-link:{code}".encode()).hexdigest()[:32]


def issue_code(redis: RedisClient, officer_id: str) -> str:
    """A fresh code for ``officer_id`` (the caller checked that the officer exists)."""
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    redis.set(keys.officer_link_code(_digest(code)), officer_id, ex=CODE_TTL_S)
    return code


def redeem(redis: RedisClient, openid: str, code: str, now: float) -> LinkResult:
    """Link ``openid`` to the officer whose live code this is; the code is spent either way."""
    if not within_limit(redis, "officer_link", openid, GUESSES_PER_HOUR, 3600, now):
        return LinkResult("limited")
    officer_id = redis.getdel(keys.officer_link_code(_digest(code)))
    officer = d.get_officer(redis, officer_id) if officer_id else None
    if officer is None:
        return LinkResult("invalid")
    linked = replace(officer, openid=openid)
    d.save_officer(redis, linked)
    return LinkResult("linked", linked)
