"""The console's pages under /console/. Views stay thin: check role and area, read, render.

Feature pages are shells around the feature's JSON API under /api/v1/ (their own modules check
role and area again); a page appears in the menu only when its API is registered in this app.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response  # what redirect() builds; flask.Response is one

from api import params
from api.queues import dead_letter_rows
from console import accounts, audit, charts, csrf, sessions, stats
from console.auth import SESSION_ID, current_user, require_role
from console.dashboard import TOP_N
from console.dashboard import build as build_dashboard
from console.throttle import LoginThrottle
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics
from worker.queues import ALL_QUEUES

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

ALL_ROLES = ("duty", "officer", "propaganda")  # admin passes every check anyway
# (page endpoint, roles besides admin, API endpoint the page needs or None)
NAV: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("console.dashboard", ALL_ROLES, None),
    ("console.alerts", ("duty", "officer"), "alerts_api.list_alerts"),
    ("console.callbacks", ("duty", "officer"), "alerts_api.callbacks"),
    ("console.stations", ("duty", "officer", "propaganda"), "registration.stations"),
    ("console.content", ("propaganda",), "content_api.list_items"),
    ("console.broadcasts", ("propaganda",), "broadcasts_api.list_broadcasts"),
    ("console.clues", ("duty",), "clues_api.list_clues"),
    ("console.dead_letters", ("duty",), None),
    ("console.accounts_page", (), None),
    ("console.audit_log", (), None),
)


def _redis() -> RedisClient:
    return current_app.config["REDIS"]


def _allowed(user: dict[str, str], roles: tuple[str, ...]) -> bool:
    return user["role"] == "admin" or user["role"] in roles


def nav_for(user: dict[str, str] | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    views = current_app.view_functions
    return [(endpoint, stats.LABELS["nav"][endpoint]) for endpoint, roles, api in NAV
            if _allowed(user, roles) and endpoint in views and (api is None or api in views)]


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    user = current_user()
    return {"user": user, "nav": nav_for(user), "csrf_token": csrf.token,
            "role_names": stats.LABELS["roles"], "has_endpoint": _has_endpoint}


def _has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


@bp.errorhandler(401)
def _to_login(_: HTTPException) -> Response:
    return redirect(url_for("console.login", next=request.full_path.rstrip("?")))


@bp.errorhandler(403)
def _forbidden(_: HTTPException) -> tuple[str, int]:
    return render_template("console/error.html", code=403), 403


@bp.errorhandler(400)
def _bad_request(exc: HTTPException) -> tuple[str, int]:
    if exc.description == "csrf" and request.endpoint == "console.login":
        # The login page sat open past the session lifetime: show it again with a fresh token.
        return render_template("console/login.html", error="expired", next=""), 400
    return render_template("console/error.html", code=400, csrf=exc.description == "csrf"), 400


# -- login ----------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith("/console/") and not urlparse(target).netloc \
            and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


@bp.get("/")
def index() -> Response:
    return redirect(url_for("console.dashboard"))


@bp.get("/login")
def login() -> str:
    return render_template("console/login.html", error=None, next=request.args.get("next", ""))


@bp.post("/login")
def login_submit() -> Any:
    redis = _redis()
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")
    # The client address after the trusted proxy hops (console.web applies ProxyFix).
    ip = request.remote_addr or "unknown"
    console_config = current_app.config["ENDFRAUD"].console
    throttle = LoginThrottle(redis, console_config)
    next_url = request.form.get("next", "")
    wait_ms = throttle.attempt(username, ip)
    if wait_ms:
        metrics.LOGIN_FAILURES.labels(reason="locked").inc()
        audit.record(redis, "login.blocked", target=username, actor=username or "anonymous", ip=ip)
        return render_template("console/login.html", error="locked", next=next_url), 429, {
            "Retry-After": str(-(-wait_ms // 1000))}
    account = accounts.verify_password(redis, username, password)
    if account is None:
        throttle.record_failure(ip)
        metrics.LOGIN_FAILURES.labels(reason="invalid").inc()
        audit.record(redis, "login.failed", target=username, actor=username or "anonymous", ip=ip)
        return render_template("console/login.html", error="invalid", next=next_url), 401
    throttle.record_success(username, ip)
    session.clear()  # no pre-login state (or token) survives into the staff session
    session.permanent = True
    session[SESSION_ID] = sessions.open_session(redis, username, account["generation"],
                                                console_config.session_lifetime_s)
    session["login_ms"] = int(time.time() * 1000)
    csrf.rotate()
    audit.record(redis, "login", target=username, actor=username, ip=ip)
    return redirect(_safe_next(next_url))


@bp.post("/logout")
def logout() -> Response:
    user = current_user()
    if user:
        audit.record(_redis(), "logout", target=user["username"], actor=user["username"])
    # The server forgets the session: the cookie, wherever a copy of it is, opens nothing now.
    sessions.close_session(_redis(), session.get(SESSION_ID))
    session.clear()
    return redirect(url_for("console.login"))


# -- dashboard ------------------------------------------------------------------------------


@bp.get("/dashboard")
@require_role(*ALL_ROLES)
def dashboard() -> str:
    data = build_dashboard(_redis(), current_app.config["ENDFRAUD"], g.user, time.time())
    labels = stats.LABELS
    svg: dict[str, str] = {}
    if "funnel" in data:
        svg["funnel"] = charts.funnel_chart(
            [(labels["funnel"][row["stage"]], row["count"]) for row in data["funnel"]], "预警漏斗")
    if "history" in data:
        history = data["history"]
        svg["growth"] = charts.line_chart(
            [(labels["daily"]["followers_total"], history["followers"]),
             (labels["daily"]["phones_bound_total"], history["bound"])],
            [d[5:] for d in history["days"]], "关注与绑定")
    days = data["registrations_by_day"][-14:]
    svg["registrations"] = charts.line_chart(
        [("新关注", [d["registrations"] for d in days]), ("新绑定", [d["binds"] for d in days])],
        [d["day"][5:] for d in days], "每日新增")
    for kind in ("stations", "communities", "officers"):
        rows = data["areas"][kind][:TOP_N]
        svg[kind] = charts.bar_chart([(r["name"], r["followers"]) for r in rows], kind)
    return render_template("console/dashboard.html", data=data, svg=svg,
                           queue_names=labels["queues"])


# -- accounts (admin) -----------------------------------------------------------------------


@bp.get("/accounts")
@require_role()
def accounts_page() -> str:
    return render_template("console/accounts.html", accounts=accounts.list_accounts(_redis()),
                           roles=accounts.ROLES, error=None, form={})


@bp.post("/accounts")
@require_role()
def accounts_create() -> Any:
    redis = _redis()
    form = {k: request.form.get(k, "").strip() for k in ("username", "role", "station")}
    try:
        accounts.create_account(redis, form["username"], request.form.get("password", ""),
                                form["role"], form["station"] if form["role"] == "officer" else "")
    except accounts.AccountError as exc:
        return render_template("console/accounts.html", accounts=accounts.list_accounts(redis),
                               roles=accounts.ROLES, error=str(exc), form=form), 400
    audit.record(redis, "account.create", target=form["username"], role=form["role"],
                 station=form["station"])
    return redirect(url_for("console.accounts_page"))


@bp.post("/accounts/<username>/delete")
@require_role()
def accounts_delete(username: str) -> Any:
    if username == g.user["username"]:
        abort(400)
    if accounts.delete_account(_redis(), username):
        audit.record(_redis(), "account.delete", target=username)
    return redirect(url_for("console.accounts_page"))


# -- feature pages: shells around the features' JSON APIs -------------------------------------


def _feature_page(template: str, api_endpoint: str, **context: Any) -> str:
    if api_endpoint not in current_app.view_functions:
        abort(404)  # the feature is not part of this deployment
    return render_template(f"console/{template}", **context)


@bp.get("/alerts")
@require_role("duty", "officer")
def alerts() -> str:
    return _feature_page("alerts.html", "alerts_api.list_alerts")


@bp.get("/callbacks")
@require_role("duty", "officer")
def callbacks() -> str:
    return _feature_page("callbacks.html", "alerts_api.callbacks")


@bp.get("/stations")
@require_role("duty", "officer", "propaganda")
def stations() -> str:
    return _feature_page("stations.html", "registration.stations",
                         can_edit=_allowed(g.user, ("officer",)))


@bp.get("/broadcasts")
@require_role("propaganda")
def broadcasts() -> str:
    return _feature_page("broadcasts.html", "broadcasts_api.list_broadcasts")


@bp.get("/content")
@require_role("propaganda")
def content() -> str:
    return _feature_page("content.html", "content_api.list_items")


@bp.get("/clues")
@require_role("duty")
def clues() -> str:
    return _feature_page("clues.html", "clues_api.list_clues")


# -- dead letters (duty) --------------------------------------------------------------------


@bp.get("/dead-letters")
@require_role("duty")
def dead_letters() -> str:
    return render_template("console/dead_letters.html", rows=dead_letter_rows(ALL_QUEUES, 200),
                           queue_names=stats.LABELS["queues"])


@bp.post("/dead-letters/<queue>/<entry_id>/retry")
@require_role("duty")
def dead_letter_retry(queue: str, entry_id: str) -> Response:
    if queue in ALL_QUEUES and DurableQueue(_redis(), queue).retry_dead_letter(entry_id):
        audit.record(_redis(), "dead_letter.retry", f"{queue}:{entry_id}")
    return redirect(url_for("console.dead_letters"))


# -- audit log (admin) ----------------------------------------------------------------------


@bp.get("/audit")
@require_role()
def audit_log() -> str:
    actor = request.args.get("actor", "").strip()
    action = request.args.get("action", "").strip()
    rows = audit.entries(_redis(), actor=actor, action=action, limit=200,
                         before=params.before_entry(request.args))
    return render_template("console/audit.html", rows=rows, actor=actor, action=action)


@bp.app_template_filter("ms_time")
def _ms_time(ms: Any) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(int(ms) / 1000, stats.CST).strftime("%Y-%m-%d %H:%M:%S")
