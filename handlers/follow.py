"""Follow, QR scan and unfollow: attribution to officers / communities and the welcome."""

from __future__ import annotations

from typing import Any

from bot.dialogs import end_dialog
from bot.registry import registry
from registration import follow
from registration.tags import enqueue_tagging
from registration.wiring import follower_directory
from worker.queues import BOT


def _followed(msg: Any, ctx: Any, scene: str | None) -> str:
    result = follow.record_follow(ctx.redis, follower_directory(ctx), msg.source, scene,
                                  ctx.now())
    _tag(ctx, result)
    return ctx.reply("welcome")


def _tag(ctx: Any, result: follow.FollowResult) -> None:
    """Tag by community in a worker (a WeChat API call has no place in the webhook)."""
    if result.follower.community:
        enqueue_tagging(ctx.queue(BOT), result.follower.openid, result.follower.community,
                        result.previous_community, int(ctx.now()))


@registry.on_event("subscribe")
def subscribed(msg: Any, ctx: Any) -> str:
    """Plain follow (search, shared card...): unattributed."""
    return _followed(msg, ctx, None)


@registry.on_event("subscribe_scan")
def subscribed_by_code(msg: Any, ctx: Any) -> str:
    """Follow by scanning a code: wechatpy strips ``qrscene_`` into ``scene_id``."""
    return _followed(msg, ctx, msg.scene_id)


@registry.on_event("scan")
def scanned(msg: Any, ctx: Any) -> str:
    result = follow.record_scan(ctx.redis, follower_directory(ctx), msg.source,
                                msg.scene_id or "", ctx.now())
    if result.is_new:
        _tag(ctx, result)
    return ctx.reply("welcome")


@registry.on_event("unsubscribe")
def unsubscribed(msg: Any, ctx: Any) -> None:
    follow.record_unfollow(ctx.redis, follower_directory(ctx), msg.source, ctx.now())
    end_dialog(ctx, msg.source)
