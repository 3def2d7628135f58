"""Who a broadcast reaches: a predicate over follower records, streamed bucket by bucket.

Followers live in 8192 bucketed hashes (store.followers). An audience is read one group of
buckets at a time in one pipeline, together with the same buckets' monthly mass-send counters
and, for customer-service delivery, last-action times (they share the bucket's hash tag), so the
dispatcher holds one group and one batch in memory, never the whole audience.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from broadcasts.model import BroadcastError
from registration import directory
from registration.tags import community_tag_id
from store import keys
from store.followers import Follower
from store.redis import RedisClient

BUCKET_GROUP = 64


@dataclass(frozen=True)
class Member:
    openid: str
    mass_count: int   # mass sends received this month (our own counter)
    last_active: int  # unix s of the follower's last action, 0 if not read


@dataclass(frozen=True)
class Audience:
    """``tag_id`` set: WeChat delivers by tag (sendall); members are still counted locally when
    ``local`` (a community's tag mirrors our directory), else listed from WeChat."""

    includes: Callable[[Follower], bool]
    tag_id: int | None = None
    local: bool = True


def resolve(redis: RedisClient, spec: dict[str, Any]) -> Audience:
    kind = spec["kind"]
    if kind == "all":
        return Audience(includes=lambda f: True)
    if kind == "tag":
        return Audience(includes=lambda f: False, tag_id=int(spec["tag_id"]), local=False)
    ids = frozenset(spec["ids"])
    if kind == "officers":
        return Audience(includes=lambda f: f.officer in ids)
    if kind == "stations":
        communities = frozenset(c.id for c in directory.list_communities(redis)
                                if c.station_id in ids)
        return Audience(includes=lambda f: f.community in communities)
    if kind == "communities":
        tag_id = community_tag_id(redis, next(iter(ids))) if len(ids) == 1 else None
        return Audience(includes=lambda f: f.community in ids, tag_id=tag_id)
    raise BroadcastError(f"audience.kind: unknown {kind!r}")


def check_exists(redis: RedisClient, spec: dict[str, Any]) -> None:
    """Refuse an audience naming communities, stations or officers the directory lacks."""
    lookups = {"communities": directory.get_community, "stations": directory.get_station,
               "officers": directory.get_officer}
    lookup = lookups.get(spec["kind"])
    if lookup is None:
        return
    for item_id in spec.get("ids", ()):
        if lookup(redis, item_id) is None:
            raise BroadcastError(f"audience.ids: unknown {spec['kind'][:-1]} {item_id!r}")


def iter_members(redis: RedisClient, audience: Audience, month: str, *, start_bucket: int = 0,
                 with_last_active: bool = False,
                 group: int = BUCKET_GROUP) -> Iterator[tuple[int, list[Member]]]:
    """(bucket, subscribed audience members sorted by openid) for every bucket from
    ``start_bucket``; the order is stable, so a batch's cursor range can be read again."""
    for first in range(start_bucket, keys.FOLLOWER_BUCKETS, group):
        buckets = range(first, min(first + group, keys.FOLLOWER_BUCKETS))
        pipe = redis.pipeline(transaction=False)
        for bucket in buckets:
            pipe.hgetall(keys.follower_records_bucket(bucket))
            pipe.hgetall(keys.mass_quota_bucket(bucket, month))
            if with_last_active:
                pipe.hgetall(keys.follower_last_active_bucket(bucket))
        replies = iter(pipe.execute())
        for bucket in buckets:
            records, counts = next(replies), next(replies)
            active = next(replies) if with_last_active else {}
            members = []
            for openid in sorted(records):
                follower = Follower.unpack(openid, records[openid])
                if follower.subscribed and audience.includes(follower):
                    members.append(Member(openid, int(counts.get(openid, 0)),
                                          int(active.get(openid, 0))))
            yield bucket, members


def iter_tag_members(wechat: Any, tag_id: int) -> Iterator[str]:
    """A WeChat tag's members, 10,000 per page (user/tag/get), for tags our directory lacks."""
    yield from wechat.tag.iter_tag_users(tag_id)


def mass_counts(redis: RedisClient, openids: list[str], month: str) -> list[int]:
    pipe = redis.pipeline(transaction=False)
    for openid in openids:
        pipe.hget(keys.mass_quota(openid, month), openid)
    return [int(v or 0) for v in pipe.execute()]
