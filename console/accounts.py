"""Staff accounts: argon2id password hashes in Redis; an admin creates the others."""

from __future__ import annotations

import secrets
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
    if role == "officer" and not station:
        # An officer without a station would see every area (station_scope treats "" as all).
        raise AccountError("an officer account needs a station")
    if not username.isidentifier() or len(username) > 32:
        raise AccountError("username: letters, digits and _ only, at most 32")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    key = keys.staff_user(username)
    if not replace and redis.exists(key):
        raise AccountError("username already exists")
    pipe = redis.pipeline(transaction=True)
    # A new generation per creation: sessions of a deleted namesake never match it.
    pipe.hset(key, mapping={"password_hash": _hasher.hash(password), "role": role,
                            "station": station, "created_ms": str(int(time.time() * 1000)),
                            "generation": secrets.token_hex(8)})
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
    return {"username": username, "role": record["role"], "station": record.get("station", ""),
            "generation": record.get("generation", "")}


_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


def list_accounts(redis: RedisClient) -> list[dict[str, str]]:
    """Every account without its hash, sorted by username (staff lists are small)."""
    names = sorted(redis.smembers(keys.staff_users()))
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.hmget(keys.staff_user(name), ["role", "station", "created_ms"])
    result = []
    for name, (role, station, created_ms) in zip(names, pipe.execute(), strict=True):
        if role:
            result.append({"username": name, "role": role, "station": station or "",
                           "created_ms": created_ms or "0"})
    return result


def delete_account(redis: RedisClient, username: str) -> bool:
    pipe = redis.pipeline(transaction=True)
    pipe.delete(keys.staff_user(username))
    pipe.srem(keys.staff_users(), username)
    deleted, _ = pipe.execute()
    return bool(deleted)


def account_exists(redis: RedisClient, username: str) -> bool:
    return bool(username.isidentifier() and redis.exists(keys.staff_user(username)))
