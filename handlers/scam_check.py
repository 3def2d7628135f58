"""我要核验: free text is scored by the scam check; a bare number or link is looked up first.

Three verdicts (intel.scamcheck levels): 高度疑似诈骗 names the type, quotes what was found,
gives the advice and the article link; 可疑，请核实 does the same and says how to verify first;
未发现明显特征 says that this proves nothing and how to verify (96110). Numbers and links on the
risk list flag the text on their own. The check is pure and takes well under a millisecond.
"""

from __future__ import annotations

from typing import Any

from bot.registry import registry
from handlers.knowledge import article_url, type_url
from handlers.lookup import hit_reply, lookup_reply
from intel import risklist
from intel.scamcheck import CheckResult, bare_value, check_text

MAX_ADVICE = 2


def check(ctx: Any, text: str) -> CheckResult:
    return check_text(text, ctx.library, risk_lookup=risklist.lookup_fn(
        ctx.redis, risklist.risk_key(ctx.config.privacy)))


def verdict_reply(ctx: Any, result: CheckResult) -> str:
    if not result.fraud or result.fraud_type is None:
        return ctx.reply("check_clean")
    url = (article_url(ctx, result.article_id) if result.article_id
           else type_url(ctx, ctx.library, result.fraud_type))
    name = "check_fraud" if result.level == "high" else "check_suspicious"
    return ctx.reply(name, type_name=result.type_name, reason=result.reason,
                     advice="；".join(result.advice[:MAX_ADVICE]), article_url=url)


@registry.on_menu("CHECK")
@registry.on_text(r"^(核验|我要核验|帮我核验)$")
def ask_text(msg: Any, ctx: Any) -> str:
    return ctx.reply("check_ask")


@registry.on_text(r"(?s)^(?:我要|帮我)?核验\s*[:：]?\s*(.+)$")
def check_command(msg: Any, ctx: Any) -> str:
    text = msg.content.strip()
    text = text[text.index("核验") + 2:].lstrip(" :：\n")
    return verdict_reply(ctx, check(ctx, text))


@registry.on_free_text
def check_free_text(msg: Any, ctx: Any) -> str:
    text = (msg.content or "").strip()
    # Only a number or link (spaces allowed: "170 1234 5678"), as forwarded from an SMS.
    value = text if risklist.normalize(text) is not None else bare_value(text)
    if value is not None:
        # A forwarded bare number or link: the risk list first, then the link's own signals.
        record = risklist.lookup(ctx.redis, risklist.risk_key(ctx.config.privacy), value)
        if record is not None:
            return hit_reply(ctx, record)
        result = check(ctx, text)
        return verdict_reply(ctx, result) if result.fraud else lookup_reply(ctx, value)
    return verdict_reply(ctx, check(ctx, text))
