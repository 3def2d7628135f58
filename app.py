"""The Flask application: webhook, JSON APIs, console, health and metrics.

Served by gunicorn (``endfraud web``); ``create_app`` is also what tests use directly.
"""

from __future__ import annotations

import gc
import hmac
import json
import logging
import re
import secrets
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue

import api
import handlers
from bot.registry import registry
from bot.webhook import make_blueprint
from config import Config, load_config
from console import durability, prometheus
from console import web as console_web
from console.session_interface import CachedSerializerSessionInterface
from store import health
from store.redis import RedisClient, connect
from telemetry import exposition, logs, metrics

log = logging.getLogger(__name__)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# A JSON \u escape of a UTF-16 surrogate: a pair is one character, a lone one no character.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def create_app(config: Config | None = None, redis: RedisClient | None = None,
               metrics_dir: str | None = None) -> Flask:
    """``metrics_dir``: prometheus_client's multiprocess directory when served by several
    gunicorn workers (``endfraud web`` passes it); None serves this process's own metrics."""
    config = config or load_config()
    app = Flask(__name__, static_folder=None)
    app.config["ENDFRAUD"] = config
    app.config["METRICS_MULTIPROC_DIR"] = metrics_dir
    app.config["REDIS"] = redis if redis is not None else connect(config)
    app.config["SECRET_KEY"] = config.service.secret_key or "demo-only"
    app.session_interface = CachedSerializerSessionInterface()
    app.config["MAX_CONTENT_LENGTH"] = max(config.wechat.max_body_bytes, 4 * 1024 * 1024)
    handlers.load_all()
    app.register_blueprint(make_blueprint(registry))
    api.register_all(app)
    console_web.init_app(app)
    _observe_requests(app)
    app.before_request(refuse_lone_surrogates)
    durability.init_app(app)

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        state: dict[str, object] = dict(health.status(app.config["REDIS"]))
        state["web"] = True
        healthy = all(state.values())
        # Which consumer is down, by name ("<host>:<pid>:<id>/<queue>").
        state["consumer"] = health.consumer_report(app.config["REDIS"])
        return jsonify(state), 200 if healthy else 503

    @app.get("/metrics")
    def prometheus_metrics() -> ResponseReturnValue:
        if not metrics_token_ok(config.console.metrics_token, request.headers.get("Authorization")):
            return "metrics need a bearer token\n", 401, {"WWW-Authenticate": "Bearer"}
        body = exposition.render(app.config.get("METRICS_MULTIPROC_DIR"),
                                 [prometheus.QueueCollector(app.config["REDIS"], config.queue)])
        return body, 200, {"Content-Type": exposition.CONTENT_TYPE}

    return app


def metrics_token_ok(token: str, authorization: str | None) -> bool:
    """True when no token is configured or ``authorization`` is ``Bearer <token>``; compared in
    constant time over bytes (``compare_digest`` raises on non-ASCII str), so any header is
    either right or a 401, never a 500."""
    if not token:
        return True
    try:
        # WSGI hands headers over as latin-1 text: this recovers the bytes the client sent.
        presented = (authorization or "").encode("latin-1")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented, f"Bearer {token}".encode())


def refuse_lone_surrogates() -> Any:
    """``before_request``: 400 for a JSON body spelling a lone surrogate (``"\\ud800"``). JSON
    allows the escape, Python decodes it, and then Redis (UTF-8) or WeChat's XML cannot take
    the string: a 500 deep inside whichever view stored it. Escaped pairs (emoji) are fine."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not SURROGATE_ESCAPE.search(raw):
        return None
    try:
        pending = [json.loads(raw)]
    except (ValueError, RecursionError):
        return None  # not JSON: the view refuses it in its own words
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and any("\ud800" <= ch <= "\udfff" for ch in value):
            return jsonify({"error": "a JSON string holds a lone surrogate (\\ud800-\\udfff), "
                                     "which is no character"}), 400
    return None


def _observe_requests(app: Flask) -> None:
    """Per request: a request id for the logs (the proxy's ``X-Request-Id`` when it looks like
    one) and the latency / status metrics, labelled by route template, never by raw path."""

    @app.before_request
    def start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)
        g.log_token = logs.bind(request_id=request_id)
        g.started = time.perf_counter()

    # (route, method, status) -> the labelled latency and request counters; prometheus_client
    # would look them up again on every request. Few keys: route templates, not paths.
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    @app.after_request
    def finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        key = (route, request.method, response.status_code)
        found = children.get(key)
        if found is None:
            found = children[key] = (
                metrics.HTTP_DURATION.labels(route=route),
                metrics.HTTP_REQUESTS.labels(route=route, method=request.method,
                                             status=str(response.status_code)))
        duration, count = found
        if "started" in g:
            duration.observe(time.perf_counter() - g.started)
        count.inc()
        # gunicorn's access log is off; this is its stand-in at DEBUG (route template only: a
        # raw path may carry a signed answer token).
        log.debug("%s %s -> %d", request.method, route, response.status_code)
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            logs.unbind(token)


def settle_heap(redis: RedisClient) -> None:
    """Load what requests and jobs use (content library, scam model, OpenCC tables), then move
    the process's startup heap out of the cyclic garbage collector's sight (``gc.freeze``).

    A web or worker process holds some 100,000 long-lived objects (model weights, dictionaries,
    the library); every full collection walked them all, a 70-80 ms stall of every thread in the
    process, measured as the p99 of warnings (issue 13). Frozen objects are still freed by
    reference counting; only cycles among them would never be, and startup objects are not
    garbage. Called by the process entry points (``cli``), not by ``create_app``: a test process
    must keep collecting normally. A Redis outage at start only skips the library.
    """
    from content.library import load_library
    from content.store import effective_library
    from intel.scamcheck import check_text

    try:
        library = effective_library(redis)
    except Exception:  # noqa: BLE001 - a worker starts during a Redis outage and waits it out
        logging.getLogger(__name__).warning("start-up: content library not loaded (Redis down?)")
        library = load_library()
    check_text("预热：把钱转到安全账户 https://example.cn 13800000000", library)
    gc.collect()
    gc.freeze()


def configure_logging(config: Config, role: str = "web") -> None:
    logs.configure(config.service.log_format, config.service.log_level, role)
