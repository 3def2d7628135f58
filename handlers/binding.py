"""Phone binding chat: 绑定 / 守护 dialogs, 我的绑定, 解绑, 注销.

Every command pattern is anchored (``^…$``) so it never swallows another feature's text.
The dialog handlers receive the follower's other texts while a binding is open.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.registry import registry
from registration.binding import GUARD, OWN, Reply
from registration.wiring import binder
from store.followers import OWNER


def _render(ctx: Any, reply: Reply) -> str:
    return ctx.reply(reply.name, **reply.fields)


@registry.on_menu("BIND_PHONE")
@registry.on_text(r"^(绑定|绑定手机|绑定手机号|绑定号码|绑定本人)$")
def start_binding(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).start(msg.source, OWN, ctx.now()))


@registry.on_menu("GUARD_RELATIVE")
@registry.on_text(r"^(守护|守护家人|为家人绑定|绑定家人)$")
def start_guarding(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).start(msg.source, GUARD, ctx.now()))


@registry.on_dialog(OWN)
def binding_dialog(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).answer(msg.source, OWN, msg.content, ctx.now()))


@registry.on_dialog(GUARD)
def guarding_dialog(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).answer(msg.source, GUARD, msg.content, ctx.now()))


def _items(ctx: Any, listing: list[tuple[int, str, str]]) -> str:
    return "\n".join(
        ctx.reply("binding_item_owner" if role == OWNER else "binding_item_guarded",
                  index=index, phone_masked=masked)
        for index, role, masked in listing)


@registry.on_menu("MY_BINDINGS")
@registry.on_text(r"^我的绑定$")
def my_bindings(msg: Any, ctx: Any) -> str:
    listing = binder(ctx).listing(msg.source)
    if not listing:
        return ctx.reply("bind_list_empty")
    return ctx.reply("bind_list", items=_items(ctx, listing))


@registry.on_text(r"^(解绑|解除绑定)$")
def ask_unbind(msg: Any, ctx: Any) -> str:
    listing = binder(ctx).listing(msg.source)
    if not listing:
        return ctx.reply("bind_list_empty")
    return ctx.reply("unbind_ask", items=_items(ctx, listing))


@registry.on_text(r"^解绑\s*([1-9１-９])$")  # full-width digits from Chinese input methods too
def unbind(msg: Any, ctx: Any) -> str:
    index = int(unicodedata.normalize("NFKC", msg.content.strip()[-1]))
    return _render(ctx, binder(ctx).unbind(msg.source, index, ctx.now()))


@registry.on_text(r"^注销$")
def ask_erase(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).ask_erase(msg.source))


@registry.on_text(r"^确认注销$")
def erase(msg: Any, ctx: Any) -> str:
    return _render(ctx, binder(ctx).erase(msg.source, ctx.now()))
