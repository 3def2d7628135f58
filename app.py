"""The Flask application: webhook, JSON APIs, console, health and metrics.

Served by gunicorn (``endfraud web``); ``create_app`` is also what tests use directly.
"""

from __future__ import annotations

import hmac
import logging

from flask import Flask, jsonify, request

import api
import handlers
from bot.registry import registry
from bot.webhook import make_blueprint
from config import Config, load_config
from console import prometheus
from console import web as console_web
from store import health
from store.redis import RedisClient, connect


def create_app(config: Config | None = None, redis: RedisClient | None = None) -> Flask:
    config = config or load_config()
    app = Flask(__name__, static_folder=None)
    app.config["ENDFRAUD"] = config
    app.config["REDIS"] = redis if redis is not None else connect(config)
    app.config["SECRET_KEY"] = config.service.secret_key or "demo-only"
    app.config["MAX_CONTENT_LENGTH"] = max(config.wechat.max_body_bytes, 4 * 1024 * 1024)
    handlers.load_all()
    app.register_blueprint(make_blueprint(registry))
    api.register_all(app)
    console_web.init_app(app)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        state: dict[str, object] = dict(health.status(app.config["REDIS"]))
        state["web"] = True
        healthy = all(state.values())
        # Which consumer is down, by name ("<host>:<pid>:<id>/<queue>").
        state["consumer"] = health.consumer_report(app.config["REDIS"])
        return jsonify(state), 200 if healthy else 503

    @app.get("/metrics")
    def prometheus_metrics():  # type: ignore[no-untyped-def]
        token = config.console.metrics_token
        # Bytes: compare_digest raises TypeError on a str header with non-ASCII characters.
        if token and not hmac.compare_digest(
                request.headers.get("Authorization", "").encode("utf-8", "surrogatepass"),
                f"Bearer {token}".encode("utf-8")):
            return "metrics need a bearer token\n", 401, {"WWW-Authenticate": "Bearer"}
        body = prometheus.exposition(app.config["REDIS"], config.queue)
        return body, 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}

    return app


def configure_logging(config: Config) -> None:
    logging.basicConfig(level=config.service.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # APScheduler logs every run of every job at INFO (the broadcast sync runs every 2 s).
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.root.level))
