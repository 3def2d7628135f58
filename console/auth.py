"""Who is asking: the staff session, roles and areas. Every API and console page checks both.

Roles: admin (everything), duty (alerts and call-backs, all areas), officer (own station only),
propaganda (content and broadcasts).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, session

from console import sessions
from store import keys

SESSION_ID = "sid"  # the cookie's only claim: which server-side session this is


def current_user() -> dict[str, str] | None:
    """The signed-in staff member as the account stands now, not as it stood at login.

    The cookie holds a server-side session id (console.sessions); the session names the account
    and its generation, and role and station are read from Redis on every request. Logging out,
    deleting the account (even re-creating it under the same name) or changing its role takes
    effect at once.
    """
    session_id = session.get(SESSION_ID)
    if not session_id:
        return None
    redis = current_app.config["REDIS"]
    found = sessions.session_account(redis, session_id)
    if found is None:
        session.pop(SESSION_ID, None)
        return None
    username, generation = found
    role, station, current_generation = redis.hmget(keys.staff_user(username), "role", "station",
                                                    "generation")
    if role is None or (current_generation or "") != generation:
        sessions.close_session(redis, session_id)
        session.pop(SESSION_ID, None)
        return None
    return {"username": username, "role": role, "station": station or ""}


def require_role(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """401 without a session, 403 when the role is not among ``roles`` (admin always passes)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                abort(401)
            if user["role"] != "admin" and user["role"] not in roles:
                abort(403)
            if user["role"] == "officer" and not user.get("station"):
                # station_scope would read an empty station as "all areas": refuse instead.
                abort(403)
            g.user = user
            return view(*args, **kwargs)
        return wrapped
    return decorate


def station_scope(user: dict[str, str]) -> str | None:
    """The only station an officer may see; None means all areas."""
    return user.get("station") or None if user["role"] == "officer" else None


def require_station(user: dict[str, str], station: str) -> None:
    scope = station_scope(user)
    if scope is not None and scope != station:
        abort(403)
