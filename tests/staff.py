"""Signing test clients in as staff without the argon2 cost of a real login."""

from __future__ import annotations

from typing import Any

from console.auth import SESSION_ID
from console.sessions import open_session
from store import keys

CSRF_TOKEN = "test-csrf-token"


def sign_in(client: Any, role: str, station: str = "", username: str | None = None) -> Any:
    """Create the staff account record (role, station) and a session for it on ``client``.

    Every later request carries the session's CSRF token in ``X-CSRF-Token``, as the console's
    JavaScript does. Returns the client.
    """
    username = username or f"test_{role}"
    redis = client.application.config["REDIS"]
    redis.hset(keys.staff_user(username), mapping={"password_hash": "!test-only", "role": role,
                                                   "station": station, "generation": "test"})
    redis.sadd(keys.staff_users(), username)
    session_id = open_session(redis, username, "test", 3600)
    with client.session_transaction() as session:
        session[SESSION_ID] = session_id
        session["csrf_token"] = CSRF_TOKEN
    client.environ_base["HTTP_X_CSRF_TOKEN"] = CSRF_TOKEN
    return client
