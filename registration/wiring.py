"""Building the registration objects from a handler context (config + Redis)."""

from __future__ import annotations

from typing import Any

from bot import dialogs
from registration.binding import Binder
from store.followers import FollowerDirectory
from store.phones import PhoneVault
from worker.queues import BOT


def follower_directory(ctx: Any) -> FollowerDirectory:
    return FollowerDirectory(ctx.redis, PhoneVault.from_config(ctx.config.privacy))


def binder(ctx: Any) -> Binder:
    vault = PhoneVault.from_config(ctx.config.privacy)
    return Binder(ctx.redis, vault, FollowerDirectory(ctx.redis, vault), ctx.queue(BOT),
                  dialogs, ctx)
