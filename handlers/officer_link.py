"""警员绑定 <code>: an officer links their own WeChat to their directory record
(``registration.officer_link``), so escalation notices reach them."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.registry import registry
from console import audit
from registration import officer_link


# Full-width digits and a space or none: what Chinese input methods type.
@registry.on_text(rf"^{officer_link.COMMAND}\s*([0-9０-９]{{{officer_link.CODE_DIGITS}}})$")
def link_officer(msg: Any, ctx: Any) -> str:
    code = unicodedata.normalize("NFKC", msg.content.strip())[-officer_link.CODE_DIGITS:]
    result = officer_link.redeem(ctx.redis, msg.source, code, ctx.now())
    if result.officer is None:
        return ctx.reply(f"officer_link_{result.kind}")
    audit.record(ctx.redis, "registration.officers.link", result.officer.id, actor="wechat",
                 station_id=result.officer.station_id)
    return ctx.reply("officer_link_ok", officer_name=result.officer.name)


# "警员绑定" with no code or a malformed one: say how to get a code, rather than scam-check it.
@registry.on_text(rf"^{officer_link.COMMAND}.{{0,20}}$")
def link_officer_without_code(msg: Any, ctx: Any) -> str:
    return ctx.reply("officer_link_invalid")
