"""CSRF protection for the console: a per-session token, checked on every state-changing request.

Browsers send the session cookie on cross-site form posts (SameSite=Lax stops most, not all:
top-level POSTs from a same-site subdomain still carry it), so every POST/PUT/PATCH/DELETE that is
authenticated by the session must also carry the token: console forms send it as the
``csrf_token`` field, the console's JavaScript as the ``X-CSRF-Token`` header. Requests without a
staff session (the WeChat webhook, the warning platform's signed intake) are not cookie-borne and
are left alone; the login form is checked too (login CSRF).
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

from console.auth import SESSION_ID

SESSION_KEY = "csrf_token"
HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Authenticated by their caller's signature (WeChat's, a warning platform's), never by a cookie:
# no session, CSRF token, staff audit or replica fence applies, so those hooks step aside
# without opening the session (they run on every warning, twice).
SIGNED_ENDPOINTS = frozenset({"wechat.receive", "wechat.verify_server", "alerts_api.ingest"})


def token() -> str:
    """This session's token, created on first use (templates put it in forms and a meta tag)."""
    value = session.get(SESSION_KEY)
    if not value:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return str(value)


def rotate() -> str:
    """A fresh token, issued at login so a token seen before login is worthless after it."""
    session[SESSION_KEY] = secrets.token_urlsafe(32)
    return str(session[SESSION_KEY])


def is_valid(expected: str | None, sent: str | None) -> bool:
    # compare_digest refuses str with non-ASCII (TypeError, a 500): compare bytes.
    return bool(expected and sent) and hmac.compare_digest(
        str(expected).encode("utf-8", "surrogatepass"), str(sent).encode("utf-8", "surrogatepass"))


def protect() -> None:
    """``before_request`` hook: 400 when a cookie-authenticated unsafe request lacks the token."""
    if request.method not in UNSAFE_METHODS or request.endpoint in SIGNED_ENDPOINTS:
        return
    if SESSION_ID not in session and request.blueprint != "console":
        return
    sent = request.headers.get(HEADER) or request.form.get(FORM_FIELD)
    if not is_valid(session.get(SESSION_KEY), sent):
        abort(400, description="csrf")
