"""Wires the console into the Flask app: session cookie, CSRF, catch-all audit, security headers."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from console import audit, csrf
from console.auth import SESSION_ID, current_user
from console.views import bp

# Everything the console loads is served by us (no CDN); inline SVG needs no script or style.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                           "script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                           "base-uri 'none'")


def init_app(app: Flask) -> None:
    config = app.config["ENDFRAUD"]
    app.config.update(
        SESSION_COOKIE_NAME="endfraud_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.service.public_url.startswith("https://"),
        # Also enforced on read: Flask rejects a signed cookie older than this.
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=config.console.session_lifetime_s),
    )
    if config.console.trusted_proxy_hops:
        # The client address is what our own proxies appended to X-Forwarded-For, never what a
        # client wrote there: login delays and audit entries key on it.
        app.wsgi_app = ProxyFix(app.wsgi_app,  # type: ignore[method-assign]
                                x_for=config.console.trusted_proxy_hops)
    app.before_request(csrf.protect)
    app.after_request(_audit_unrecorded_action)
    app.after_request(_security_headers)
    app.register_blueprint(bp)


def _audit_unrecorded_action(response: Response) -> Response:
    """Every state-changing staff request leaves an audit entry, even if its view forgot to.

    Only method, endpoint and path are logged: bodies may carry personal data.
    """
    if request.method not in csrf.UNSAFE_METHODS or request.endpoint in csrf.SIGNED_ENDPOINTS:
        return response
    user = g.get("user") or (current_user() if SESSION_ID in session else None)
    if (user and response.status_code < 400
            and not g.get("audit_recorded")):
        audit.record(current_app.config["REDIS"], f"{request.method} {request.endpoint}",
                     target=request.path, actor=user["username"], status=response.status_code)
    return response


def _security_headers(response: Response) -> Response:
    if request.blueprint == "console":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "console.static":
            response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response

