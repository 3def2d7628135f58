"""Who is asking: the staff session, roles and areas. Every API and console page checks both.

Roles: admin (everything), duty (alerts and call-backs, all areas), officer (own station only),
propaganda (content and broadcasts).
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, g, session


def current_user() -> dict[str, str] | None:
    user = session.get("user")
    return dict(user) if user else None


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
