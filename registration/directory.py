"""Police stations, communities (社区/村) and community officers, kept in Redis.

Each kind is one hash ``reg:{dir}:<kind>`` of id → JSON record (hundreds to a few thousand
records: one HGETALL lists them). A save checks what it refers to (an officer's station and
community) inside a WATCH on those hashes, so a record never points at something missing.

Ids are short ``[A-Za-z0-9_-]`` strings (given by staff or generated): they go into QR scene
strings (``o:<id>``, ``c:<id>``) and into each follower's packed record, which must stay under
Redis' 64-byte listpack value limit (see store.followers), hence at most 12 characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import redis as redis_lib

from store import keys
from store.redis import RedisClient

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,12}$")
MAX_NAME_CHARS = 40
# WeChat openids are 28 characters of [A-Za-z0-9_-].
OPENID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{10,64}$")

STATIONS, COMMUNITIES, OFFICERS = "stations", "communities", "officers"


class DirectoryError(ValueError):
    """A record is invalid or refers to something missing; the message says which field."""


@dataclass(frozen=True)
class Station:
    id: str
    name: str


@dataclass(frozen=True)
class Community:
    id: str
    name: str
    station_id: str


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    badge_no: str
    station_id: str
    community_id: str = ""
    openid: str = ""  # the officer's own WeChat openid, for escalation notices; optional


Record = TypeVar("Record", Station, Community, Officer)
_CLASSES: dict[str, Any] = {STATIONS: Station, COMMUNITIES: Community, OFFICERS: Officer}


# -- reading -------------------------------------------------------------------------------------

def _load(cls: type[Record], raw: str | None) -> Record | None:
    if not raw:
        return None
    data = json.loads(raw)
    fields = cls.__dataclass_fields__
    return cls(**{k: v for k, v in data.items() if k in fields})


def get_station(redis: RedisClient, station_id: str) -> Station | None:
    return _load(Station, redis.hget(keys.directory(STATIONS), station_id))


def get_community(redis: RedisClient, community_id: str) -> Community | None:
    return _load(Community, redis.hget(keys.directory(COMMUNITIES), community_id))


def get_officer(redis: RedisClient, officer_id: str) -> Officer | None:
    return _load(Officer, redis.hget(keys.directory(OFFICERS), officer_id))


def get_officers(redis: RedisClient, officer_ids: list[str]) -> list[Officer | None]:
    """Several officers in one round trip (HMGET), in the order asked."""
    if not officer_ids:
        return []
    raws = redis.hmget(keys.directory(OFFICERS), officer_ids)
    return [_load(Officer, raw) for raw in raws]


def _all(redis: RedisClient, cls: type[Record], kind: str) -> list[Record]:
    records = [_load(cls, raw) for raw in redis.hgetall(keys.directory(kind)).values()]
    return sorted((r for r in records if r is not None), key=lambda r: r.id)


def list_stations(redis: RedisClient) -> list[Station]:
    return _all(redis, Station, STATIONS)


def list_communities(redis: RedisClient, station_id: str | None = None) -> list[Community]:
    found = _all(redis, Community, COMMUNITIES)
    return [c for c in found if station_id is None or c.station_id == station_id]


def list_officers(redis: RedisClient, station_id: str | None = None) -> list[Officer]:
    found = _all(redis, Officer, OFFICERS)
    return [o for o in found if station_id is None or o.station_id == station_id]


def station_of_community(redis: RedisClient, community_id: str) -> str:
    community = get_community(redis, community_id) if community_id else None
    return community.station_id if community else ""


# -- validation (pure) ---------------------------------------------------------------------------

def _check_id(value: str, field: str = "id") -> None:
    if not ID_PATTERN.match(value or ""):
        raise DirectoryError(f"{field}: must be 1-12 characters of letters, digits, '_' or '-', "
                             f"got {value!r}")


def _check_name(value: str, field: str = "name") -> None:
    if not isinstance(value, str) or not value.strip():
        raise DirectoryError(f"{field}: required")
    if len(value) > MAX_NAME_CHARS:
        raise DirectoryError(f"{field}: at most {MAX_NAME_CHARS} characters")
    if any(ch in value for ch in "|\r\n\t"):
        raise DirectoryError(f"{field}: must not contain '|' or line breaks")


def validate_station(station: Station) -> None:
    _check_id(station.id)
    _check_name(station.name)


def validate_community(community: Community) -> None:
    _check_id(community.id)
    _check_name(community.name)
    _check_id(community.station_id, "station_id")


def validate_officer(officer: Officer) -> None:
    _check_id(officer.id)
    _check_name(officer.name)
    _check_name(officer.badge_no, "badge_no")
    _check_id(officer.station_id, "station_id")
    if officer.community_id:
        _check_id(officer.community_id, "community_id")
    if officer.openid and not OPENID_PATTERN.match(officer.openid):
        raise DirectoryError(f"openid: not a WeChat openid: {officer.openid!r}")


# -- writing -------------------------------------------------------------------------------------

def new_id(redis: RedisClient, kind: str) -> str:
    """A fresh id for ``kind`` (when staff give none): "1", "2", ... per kind."""
    while True:
        candidate = str(redis.hincrby(keys.directory_sequence(), kind, 1))
        if not redis.hexists(keys.directory(kind), candidate):
            return candidate


def _save(redis: RedisClient, kind: str, record: Any,
          check: Any = None) -> None:
    """Write ``record`` after ``check(pipe)`` passed inside a WATCH on every directory hash."""
    watched = [keys.directory(k) for k in (STATIONS, COMMUNITIES, OFFICERS)]

    def attempt(pipe: redis_lib.client.Pipeline) -> None:
        if check is not None:
            check(pipe)
        pipe.multi()
        pipe.hset(keys.directory(kind), record.id,
                  json.dumps(asdict(record), ensure_ascii=False, separators=(",", ":")))

    redis.transaction(attempt, *watched)


def save_station(redis: RedisClient, station: Station) -> Station:
    validate_station(station)
    _save(redis, STATIONS, station)
    return station


def save_community(redis: RedisClient, community: Community) -> Community:
    validate_community(community)

    def check(pipe: Any) -> None:
        if not pipe.hexists(keys.directory(STATIONS), community.station_id):
            raise DirectoryError(f"station_id: station {community.station_id!r} does not exist")
        current = _load(Community, pipe.hget(keys.directory(COMMUNITIES), community.id))
        if current and current.station_id != community.station_id:
            # Statistics sum communities per station; moving one would rewrite history.
            raise DirectoryError(f"station_id: community {community.id!r} belongs to station "
                                 f"{current.station_id!r} and cannot move")

    _save(redis, COMMUNITIES, community, check)
    return community


def save_officer(redis: RedisClient, officer: Officer) -> Officer:
    validate_officer(officer)

    def check(pipe: Any) -> None:
        if not pipe.hexists(keys.directory(STATIONS), officer.station_id):
            raise DirectoryError(f"station_id: station {officer.station_id!r} does not exist")
        if officer.community_id:
            community = _load(Community, pipe.hget(keys.directory(COMMUNITIES),
                                                   officer.community_id))
            if community is None:
                raise DirectoryError(
                    f"community_id: community {officer.community_id!r} does not exist")
            if community.station_id != officer.station_id:
                raise DirectoryError(
                    f"community_id: community {officer.community_id!r} belongs to station "
                    f"{community.station_id!r}, not {officer.station_id!r}")
        for raw in pipe.hvals(keys.directory(OFFICERS)):
            other = _load(Officer, raw)
            if other and other.id != officer.id and other.badge_no == officer.badge_no:
                raise DirectoryError(f"badge_no: {officer.badge_no!r} is already officer "
                                     f"{other.id!r}'s badge number")

    _save(redis, OFFICERS, officer, check)
    return officer


def record_from(kind: str, data: dict[str, Any]) -> Any:
    """Build a record of ``kind`` from JSON input, naming unknown or wrongly typed fields."""
    cls = _CLASSES[kind]
    fields = cls.__dataclass_fields__
    unknown = set(data) - set(fields)
    if unknown:
        raise DirectoryError(f"{sorted(unknown)[0]}: unknown field")
    values = {}
    for name in fields:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise DirectoryError(f"{name}: expected a string, got {value!r}")
        values[name] = value.strip()
    return cls(**values)
