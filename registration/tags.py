"""Followers tagged in WeChat by community, so a broadcast can target one community's followers
with ``message/mass/sendall`` ``filter.tag_id``.

Tagging is a WeChat API call, so it never runs in the webhook: the follow handler enqueues a
``registration.tag_follower`` job and a worker runs ``tag_follower``. The community → tag id map
is kept in ``reg:{dir}:tags``; a tag is created once per community.

Tags API: https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
(name ≤ 30 characters, unique per account; ≤ 100 tags per account; ≤ 20 tags per follower).
"""

from __future__ import annotations

from typing import Any

from wechatpy.exceptions import WeChatClientException

from registration.directory import get_community
from store import keys
from store.redis import RedisClient
from store.streams import DurableQueue

TAG_JOB = "registration.tag_follower"
MAX_TAG_NAME_CHARS = 30
TAG_NAME_EXISTS = 45157


def community_tag_id(redis: RedisClient, community_id: str) -> int | None:
    value = redis.hget(keys.community_tags(), community_id)
    return int(value) if value else None


def tag_name(community_id: str, community_name: str) -> str:
    """Unique per community even when two villages share a name; readable in the MP console."""
    return f"{community_name[:MAX_TAG_NAME_CHARS - len(community_id) - 1]}#{community_id}"


def ensure_community_tag(redis: RedisClient, wechat: Any, community_id: str) -> int:
    """The community's tag id, creating the tag on first use (or adopting an existing one)."""
    known = community_tag_id(redis, community_id)
    if known is not None:
        return known
    community = get_community(redis, community_id)
    if community is None:
        raise LookupError(f"community {community_id!r} does not exist")
    name = tag_name(community.id, community.name)
    try:
        # wechatpy unwraps {"tag": {...}} and {"tags": [...]} for us.
        tag_id = int(wechat.tag.create(name)["id"])
    except WeChatClientException as exc:
        if exc.errcode != TAG_NAME_EXISTS:
            raise
        # Created by an earlier run that died before remembering it.
        tag_id = next(int(t["id"]) for t in wechat.tag.get() if t["name"] == name)
    # HSETNX: two workers racing for the same community keep the first id.
    redis.hsetnx(keys.community_tags(), community_id, tag_id)
    return int(redis.hget(keys.community_tags(), community_id))


def tag_follower(redis: RedisClient, wechat: Any, openid: str, community_id: str,
                 previous_community_id: str = "") -> int:
    """Tag ``openid`` with its community (and drop the previous community's tag)."""
    tag_id = ensure_community_tag(redis, wechat, community_id)
    if previous_community_id and previous_community_id != community_id:
        old = community_tag_id(redis, previous_community_id)
        if old is not None:
            wechat.tag.untag_user(old, [openid])
    wechat.tag.tag_user(tag_id, [openid])
    return tag_id


def enqueue_tagging(queue: DurableQueue, openid: str, community_id: str,
                    previous_community_id: str, follow_time: int) -> None:
    # The follow's time makes the id unique per follow and equal on a webhook retry.
    queue.enqueue(TAG_JOB, {"openid": openid, "community": community_id,
                            "previous": previous_community_id},
                  job_id=f"tag:{openid}:{community_id}:{follow_time}")
