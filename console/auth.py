"""Who is asking: the staff session, roles and areas. Every API and console page checks both.

Roles: admin (everything), duty (alerts and call-backs, all areas), officer (own station only),
propaganda (content and broadcasts).
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, current_app, g, session

from store import keys


def current_user() -> dict[str, str] | None:
    """The signed-in staff member as the account stands now, not as it stood at login.

    The session cookie only names the account; role and station are read from Redis on every
    request, so deleting an account or changing its role takes effect at once.
    """
    user = session.get("user")
    if not user:
        return None
    role, station = current_app.config["REDIS"].hmget(keys.staff_user(user["username"]),
                                                      "role", "station")
    if role is None:
        session.pop("user", None)
        return None
    return {"username": user["username"], "role": role, "station": station or ""}


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
