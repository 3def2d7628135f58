"""Staff accounts: argon2id password hashes in Redis; an admin creates the others."""

from __future__ import annotations

import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from store import keys
from store.redis import RedisClient

ROLES = ("admin", "duty", "officer", "propaganda")
_hasher = PasswordHasher()


class AccountError(ValueError):
    pass


def create_account(redis: RedisClient, username: str, password: str, role: str,
                   station: str = "", *, replace: bool = False) -> None:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not username.isidentifier() or len(username) > 32:
        raise AccountError("username: letters, digits and _ only, at most 32")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    key = keys.staff_user(username)
    if not replace and redis.exists(key):
        raise AccountError("username already exists")
    pipe = redis.pipeline(transaction=True)
    pipe.hset(key, mapping={"password_hash": _hasher.hash(password), "role": role,
                            "station": station, "created_ms": str(int(time.time() * 1000))})
    pipe.sadd(keys.staff_users(), username)
    pipe.execute()


def verify_password(redis: RedisClient, username: str, password: str) -> dict[str, str] | None:
    """The account when the password matches, else None (same cost either way)."""
    record = redis.hgetall(keys.staff_user(username)) if username.isidentifier() else {}
    stored = record.get("password_hash") or _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if not record:
        return None
    return {"username": username, "role": record["role"], "station": record.get("station", "")}


_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")
