"""Staff APIs of registration: stations, communities, officers, QR posters, statistics.

Roles (console.auth): admin manages everything; an officer manages and sees only their own
station's communities and officers; duty and propaganda staff read. Every change and every
poster export is recorded in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from wechatpy.exceptions import WeChatClientException

from api import params
from bot.wechat import make_client
from console import audit
from console.auth import require_role, require_station, station_scope
from content.store import effective_library
from registration import directory as d
from registration import officer_link, poster, stats
from registration.follow import community_scene, officer_scene
from registration.qr import ensure_qr

bp = Blueprint("registration", __name__, url_prefix="/api/v1")

READERS = ("duty", "officer", "propaganda")


def _redis() -> Any:
    return current_app.config["REDIS"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(_error(400, "expected a JSON object"))
    return body


def _error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.errorhandler(d.DirectoryError)
def _directory_error(exc: d.DirectoryError) -> Response:
    return _error(400, str(exc))


@bp.errorhandler(poster.PosterError)
def _poster_error(exc: poster.PosterError) -> Response:
    return _error(503, str(exc))


@bp.errorhandler(WeChatClientException)
def _wechat_error(exc: WeChatClientException) -> Response:
    return _error(502, f"WeChat API error {exc.errcode}: {exc.errmsg}")


def _scoped(station_id: str) -> None:
    require_station(g.user, station_id)


def _filter_station() -> str | None:
    """The station to list: the officer's own, or ?station= for everyone else."""
    scope = station_scope(g.user)
    asked = request.args.get("station") or None
    if scope is not None:
        if asked and asked != scope:
            abort(403)
        return scope
    return asked


# -- stations ------------------------------------------------------------------------------------

@bp.get("/stations")
@require_role(*READERS)
def stations() -> Any:
    scope = station_scope(g.user)
    found = [s for s in d.list_stations(_redis()) if scope is None or s.id == scope]
    return {"stations": [s.__dict__ for s in found]}


@bp.post("/stations")
@require_role()
def create_station() -> Any:
    body = _body()
    body.setdefault("id", d.new_id(_redis(), d.STATIONS))
    station = d.record_from(d.STATIONS, body)
    if d.get_station(_redis(), station.id):
        raise d.DirectoryError(f"id: station {station.id!r} already exists")
    d.save_station(_redis(), station)
    audit.record(_redis(), "registration.station.create", station.id, name=station.name)
    return jsonify(station.__dict__), 201


@bp.put("/stations/<station_id>")
@require_role()
def edit_station(station_id: str) -> Any:
    current = d.get_station(_redis(), station_id) or abort(404)
    station = d.record_from(d.STATIONS, {**current.__dict__, **_body(), "id": station_id})
    d.save_station(_redis(), station)
    audit.record(_redis(), "registration.station.edit", station.id, name=station.name)
    return station.__dict__


# -- communities and officers --------------------------------------------------------------------

def _create(kind: str, body: dict[str, Any], save: Callable[[Any, Any], Any],
            exists: Callable[[Any, str], Any]) -> Any:
    body.setdefault("id", d.new_id(_redis(), kind))
    if station_scope(g.user) is not None:
        body.setdefault("station_id", station_scope(g.user))
    record = d.record_from(kind, body)
    _scoped(record.station_id)
    if exists(_redis(), record.id):
        raise d.DirectoryError(f"id: {kind[:-1] if kind != d.COMMUNITIES else 'community'} "
                               f"{record.id!r} already exists")
    save(_redis(), record)
    audit.record(_redis(), f"registration.{kind}.create", record.id, name=record.name,
                 station_id=record.station_id)
    return jsonify(record.__dict__), 201


def _edit(kind: str, record_id: str, get: Callable[[Any, str], Any],
          save: Callable[[Any, Any], Any]) -> Any:
    current = get(_redis(), record_id) or abort(404)
    _scoped(current.station_id)
    record = d.record_from(kind, {**current.__dict__, **_body(), "id": record_id})
    _scoped(record.station_id)
    save(_redis(), record)
    audit.record(_redis(), f"registration.{kind}.edit", record.id, name=record.name,
                 station_id=record.station_id)
    return record.__dict__


@bp.get("/communities")
@require_role(*READERS)
def communities() -> Any:
    found = d.list_communities(_redis(), _filter_station())
    return {"communities": [c.__dict__ for c in found]}


@bp.post("/communities")
@require_role("officer")
def create_community() -> Any:
    return _create(d.COMMUNITIES, _body(), d.save_community, d.get_community)


@bp.put("/communities/<community_id>")
@require_role("officer")
def edit_community(community_id: str) -> Any:
    return _edit(d.COMMUNITIES, community_id, d.get_community, d.save_community)


@bp.get("/officers")
@require_role(*READERS)
def officers() -> Any:
    found = d.list_officers(_redis(), _filter_station())
    return {"officers": [o.__dict__ for o in found]}


@bp.post("/officers")
@require_role("officer")
def create_officer() -> Any:
    return _create(d.OFFICERS, _body(), d.save_officer, d.get_officer)


@bp.put("/officers/<officer_id>")
@require_role("officer")
def edit_officer(officer_id: str) -> Any:
    return _edit(d.OFFICERS, officer_id, d.get_officer, d.save_officer)


@bp.post("/officers/<officer_id>/link-code")
@require_role("officer")
def officer_link_code(officer_id: str) -> Any:
    """A one-time code the officer sends from their own WeChat to receive escalation notices."""
    officer = d.get_officer(_redis(), officer_id) or abort(404)
    _scoped(officer.station_id)
    code = officer_link.issue_code(_redis(), officer.id)
    audit.record(_redis(), "registration.officers.link_code", officer.id,
                 station_id=officer.station_id)
    return {"officer_id": officer.id, "code": code, "expires_in_s": officer_link.CODE_TTL_S,
            "message": f"{officer_link.COMMAND} {code}"}


# -- QR posters ----------------------------------------------------------------------------------

def _wechat() -> Any:
    return make_client(current_app.config["ENDFRAUD"], _redis())


def _officer_poster(officer: d.Officer, library: Any) -> tuple[str, str, poster.PosterText]:
    station = d.get_station(_redis(), officer.station_id)
    community = d.get_community(_redis(), officer.community_id) if officer.community_id else None
    code = ensure_qr(_redis(), _wechat(), officer_scene(officer.id))
    return (f"officer-{officer.id}", code.url,
            poster.officer_text(library, officer, community, station))


def _community_poster(community: d.Community, library: Any) -> tuple[str, str, poster.PosterText]:
    station = d.get_station(_redis(), community.station_id)
    code = ensure_qr(_redis(), _wechat(), community_scene(community.id))
    return f"community-{community.id}", code.url, poster.community_text(library, community,
                                                                       station)


def _poster_response(item: tuple[str, str, poster.PosterText], fmt: str) -> Response:
    name, url, text = item
    audit.record(_redis(), "registration.poster.export", name, format=fmt)
    if fmt == "svg":
        return Response(poster.render_svg(url, text), mimetype="image/svg+xml")
    return Response(poster.render_png(url, text), mimetype="image/png")


@bp.get("/officers/<officer_id>/poster.<fmt>")
@require_role(*READERS)
def officer_poster(officer_id: str, fmt: str) -> Response:
    if fmt not in ("png", "svg"):
        abort(404)
    officer = d.get_officer(_redis(), officer_id) or abort(404)
    _scoped(officer.station_id)
    return _poster_response(_officer_poster(officer, effective_library(_redis())), fmt)


@bp.get("/communities/<community_id>/poster.<fmt>")
@require_role(*READERS)
def community_poster(community_id: str, fmt: str) -> Response:
    if fmt not in ("png", "svg"):
        abort(404)
    community = d.get_community(_redis(), community_id) or abort(404)
    _scoped(community.station_id)
    return _poster_response(_community_poster(community, effective_library(_redis())), fmt)


@bp.get("/stations/<station_id>/posters.zip")
@require_role(*READERS)
def station_posters(station_id: str) -> Response:
    _scoped(station_id)
    d.get_station(_redis(), station_id) or abort(404)
    library = effective_library(_redis())
    items = [_community_poster(c, library) for c in d.list_communities(_redis(), station_id)]
    items += [_officer_poster(o, library) for o in d.list_officers(_redis(), station_id)]
    audit.record(_redis(), "registration.poster.export_zip", station_id, posters=len(items))
    return Response(poster.zip_posters(items), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="posters-{station_id}.zip"'})


# -- statistics ----------------------------------------------------------------------------------

@bp.get("/registration/stats")
@require_role(*READERS)
def registration_stats() -> Any:
    days = params.day_count(request.args, 30, 366)
    station = _filter_station()
    redis = _redis()
    all_stations = d.list_stations(redis)
    if station is not None and not any(s.id == station for s in all_stations):
        abort(404)
    in_scope = [s for s in all_stations if station is None or s.id == station]
    return stats.report(redis, in_scope, d.list_communities(redis, station),
                        d.list_officers(redis, station), days=days,
                        include_totals=station is None)
