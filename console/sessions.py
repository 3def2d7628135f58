"""Server-side staff sessions: the signed cookie carries only a random session id.

The session record (``staff:{session}:<id>``, TTL ``console.session_lifetime_s``) names the
account and the account's *generation*, a random value set when the account is created. So:

- logout deletes the record: a copied cookie is worthless afterwards;
- a deleted account, even re-created under the same name, has a new generation: sessions
  opened for the old one are refused.
"""

from __future__ import annotations

import secrets

from store import keys
from store.redis import RedisClient


def open_session(redis: RedisClient, username: str, generation: str, ttl_s: int) -> str:
    session_id = secrets.token_urlsafe(32)
    redis.set(keys.staff_session(session_id), f"{username} {generation}", ex=ttl_s)
    return session_id


def session_account(redis: RedisClient, session_id: str) -> tuple[str, str] | None:
    """(username, generation) of a live session, else None."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > 100:
        return None
    value = redis.get(keys.staff_session(session_id))
    if not value:
        return None
    username, _, generation = value.partition(" ")
    return username, generation


def close_session(redis: RedisClient, session_id: str | None) -> None:
    if session_id and isinstance(session_id, str) and len(session_id) <= 100:
        redis.delete(keys.staff_session(session_id))
