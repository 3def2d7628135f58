"""Flask's signed-cookie sessions with the signing serializer built once per key set.

Flask builds a new ``URLSafeTimedSerializer`` (and its signer's key list) every time it opens or
saves a session, i.e. twice on every request, the alert API and the WeChat webhook included,
which never use a session. The serializer depends only on the secret key and its fallbacks, so it
is kept and rebuilt only when those change. Cookies, salt and signing are Flask's own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._cached: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key_set = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._cached
        if cached is not None and cached[0] == key_set:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        self._cached = (key_set, serializer)
        return serializer
