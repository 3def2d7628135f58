"""Risk look-up: "查号 <number or URL>" (or the 查号码 menu, then the value) answers how often the
value was seen on the risk list, when last, and for which fraud type."""

from __future__ import annotations

import time
from typing import Any

from bot.dialogs import end_dialog, end_dialog_named, start_dialog
from bot.registry import registry
from intel import risklist

DIALOG = "lookup"
DIALOG_TIMEOUT_S = 300


def beijing_time(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts + 8 * 3600))


def hit_reply(ctx: Any, record: dict[str, Any]) -> str:
    fraud_type = ctx.library.types_by_id.get(record["fraud_type"])
    # The masked form: this reply is cached in Redis by the webhook's dedup.
    return ctx.reply("lookup_hit", value=record["display"], count=record["count"],
                     last_seen=beijing_time(record["last_seen"]),
                     fraud_type_name=fraud_type.name if fraud_type else record["fraud_type"])


def lookup_reply(ctx: Any, value: str) -> str:
    normalized = risklist.normalize(value)
    if normalized is None:
        return ctx.reply("lookup_invalid")
    record = risklist.lookup(ctx.redis, risklist.risk_key(ctx.config.privacy), value)
    if record is None:
        return ctx.reply("lookup_miss", value=normalized.display)
    return hit_reply(ctx, record)


def ask_value(msg: Any, ctx: Any) -> str:
    start_dialog(ctx, msg.source, DIALOG, timeout_s=DIALOG_TIMEOUT_S)
    return ctx.reply("lookup_ask")


registry.on_menu("LOOKUP")(ask_value)


@registry.on_text(r"^查号\s*[:：]?\s*(.*)$")
def lookup_command(msg: Any, ctx: Any) -> str:
    value = msg.content.strip()[2:].strip().lstrip(":：").strip()
    if not value:
        return ask_value(msg, ctx)
    end_dialog_named(ctx, msg.source, DIALOG)  # "查号" then "查号 <value>": answered now
    return lookup_reply(ctx, value)


@registry.on_dialog(DIALOG)
def lookup_in_dialog(msg: Any, ctx: Any) -> str:
    end_dialog(ctx, msg.source)
    return lookup_reply(ctx, msg.content.strip())
