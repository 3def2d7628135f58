"""Follow, scan and unfollow: who brought each follower, counted once.

A permanent QR code's scene string names who hands it out: ``o:<officer id>`` or
``c:<community id>``. WeChat sends ``subscribe`` with ``EventKey=qrscene_<scene>`` when a
non-follower scans it (wechatpy turns that into ``subscribe_scan`` with ``scene_id``), plain
``subscribe`` without a code, and ``SCAN`` when a follower scans again
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html).

A registration is counted once per follower record: unfollowing keeps the record (marked
unsubscribed, so no warning reaches it) and the anonymous counts; following again restores it
without counting a second registration. Only 注销 deletes the record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from registration import directory, stats
from store.followers import Follower, FollowerDirectory
from store.redis import RedisClient

OFFICER_SCENE, COMMUNITY_SCENE = "o", "c"


@dataclass(frozen=True)
class Attribution:
    officer: str = ""
    community: str = ""


@dataclass(frozen=True)
class FollowResult:
    follower: Follower
    is_new: bool                 # first registration of this openid
    previous_community: str      # community before this follow ('' if none or new)


def officer_scene(officer_id: str) -> str:
    return f"{OFFICER_SCENE}:{officer_id}"


def community_scene(community_id: str) -> str:
    return f"{COMMUNITY_SCENE}:{community_id}"


def parse_scene(scene: str | None) -> tuple[str, str] | None:
    """``"o:12"`` → ``("o", "12")``; anything else (other campaigns, garbage) → None (pure)."""
    kind, sep, ident = (scene or "").partition(":")
    if not sep or kind not in (OFFICER_SCENE, COMMUNITY_SCENE):
        return None
    if not directory.ID_PATTERN.match(ident):
        return None
    return kind, ident


def resolve(redis: RedisClient, scene: str | None) -> Attribution:
    """Attribution of a scene; an unknown officer or community counts as unattributed."""
    parsed = parse_scene(scene)
    if parsed is None:
        return Attribution()
    kind, ident = parsed
    if kind == OFFICER_SCENE:
        officer = directory.get_officer(redis, ident)
        return Attribution(officer.id, officer.community_id) if officer else Attribution()
    community = directory.get_community(redis, ident)
    return Attribution("", community.id) if community else Attribution()


def record_follow(redis: RedisClient, followers: FollowerDirectory, openid: str,
                  scene: str | None, now: float) -> FollowResult:
    """``subscribe`` / ``subscribe_scan``: (re)activate the record and count it once."""
    before = followers.get(openid)
    attribution = resolve(redis, scene)
    if before is None:
        after = Follower(openid, True, int(now), attribution.officer, attribution.community, "")
    elif attribution.officer or attribution.community:
        # Coming back through a code: the officer who brought them back gets them.
        after = replace(before, subscribed=True, officer=attribution.officer,
                        community=attribution.community)
    else:
        after = replace(before, subscribed=True)
    followers.save(after)
    guarded = followers.guarded_count(openid) if before is not None else 0
    events = stats.event_fields("registrations", after.officer, after.community) \
        if before is None else []
    stats.apply(redis, now, stats.change(before, guarded, after, guarded), events)
    return FollowResult(after, before is None, before.community if before else "")


def record_scan(redis: RedisClient, followers: FollowerDirectory, openid: str, scene: str,
                now: float) -> FollowResult:
    """``SCAN`` by someone already following: counted as a scan, never as a registration.

    A follower we have no record of (followed before this system ran) is registered now.
    """
    before = followers.get(openid)
    if before is None or not before.subscribed:
        return record_follow(redis, followers, openid, scene, now)
    attribution = resolve(redis, scene)
    stats.apply(redis, now, None,
                stats.event_fields("scans", attribution.officer, attribution.community))
    return FollowResult(before, False, before.community)


def record_unfollow(redis: RedisClient, followers: FollowerDirectory, openid: str,
                    now: float) -> None:
    """Stop every push at once (recipients_for_phone skips unsubscribed records)."""
    before = followers.get(openid)
    if before is None or not before.subscribed:
        return
    after = replace(before, subscribed=False)
    followers.save(after)
    guarded = followers.guarded_count(openid)
    stats.apply(redis, now, stats.change(before, guarded, after, guarded),
                stats.event_fields("unfollows", before.officer, before.community))
