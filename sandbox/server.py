"""Builds the simulator's Flask app and serves it with gunicorn (``endfraud sandbox``).

All state lives in memory in one process, so gunicorn runs exactly one worker; ``gthread``
threads let a phone's webhook call proceed while the app calls back into the simulator.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication

from config import Config
from sandbox import cgi, control, media, phone, wire
from sandbox.context import Sandbox
from sandbox.errors import SandboxError
from sandbox.faults import FaultBoard
from sandbox.state import SandboxState
from sandbox.webhook import Webhook

SERVER_THREADS = 32
DEFAULT_MAX_MESSAGES = 100_000


def create_app(config: Config, webhook_url: str | None = None,
               max_messages: int = DEFAULT_MAX_MESSAGES) -> Flask:
    """The simulator for ``config``'s account, calling back ``webhook_url``
    (default ``service.public_url + "/wechat"``); ``max_messages`` bounds the message log."""
    wechat = config.wechat
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    account = wire.gh_id(wechat.app_id)
    envelope = wire.Envelope(account=account, token=wechat.token, app_id=wechat.app_id,
                             encoding_aes_key=wechat.encoding_aes_key,
                             mode=wechat.encrypt_mode)
    url = webhook_url or config.service.public_url.rstrip("/") + "/wechat"
    app.extensions["sandbox"] = Sandbox(
        config=config,
        state=SandboxState(wechat.app_id, wechat.app_secret, [wechat.warning_template_id],
                           max_messages=max_messages),
        faults=FaultBoard(),
        webhook=Webhook(url, envelope),
        account=account,
        callback_delay_s=config.sandbox.callback_delay_ms / 1000,
    )
    app.register_blueprint(cgi.bp)
    app.register_blueprint(phone.bp)
    app.register_blueprint(control.bp)
    media.install(app)

    @app.errorhandler(SandboxError)
    def sandbox_error(exc: SandboxError) -> tuple[Response, int]:
        return jsonify({"error": exc.message}), exc.status

    return app


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self._config = config
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # The web server runs beside us; don't fight over gunicorn's per-user control socket.
            self.cfg.set("control_socket_disable", True)

    # types-gunicorn's WSGI callable type omits start_response's optional exc_info argument,
    # so no real WSGI app (Flask's included) matches it.
    def load(self) -> Flask:  # type: ignore[override]
        # Built in the worker (no preload) so the callback threads start after the fork.
        app = create_app(self._config)
        # The start-up heap out of the cyclic collector's sight, as our own processes do
        # (app.settle_heap): a full collection walking it stalled every simulated reply.
        gc.collect()
        gc.freeze()
        return app


def serve(config: Config) -> None:
    """Run the simulator in the foreground at ``sandbox.host:sandbox.port``."""
    logging.basicConfig(level=config.service.log_level)
    _Gunicorn(config, {
        "bind": f"{config.sandbox.host}:{config.sandbox.port}",
        "workers": 1,  # the state is in this process's memory
        "worker_class": "gthread",
        "threads": SERVER_THREADS,
        "timeout": 120,
        "graceful_timeout": 5,
        "loglevel": config.service.log_level.lower(),
        "accesslog": None,
    }).run()
