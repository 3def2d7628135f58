"""防骗知识: a fraud type's explanation by menu click or by name, with a link to its article.

The passive reply stays short (how it works, what to do, the link); the longer warning signs and
typical scripts follow as a customer-service message from the BOT queue, so the reply is never
held up and stays inside WeChat's 5 s.
"""

from __future__ import annotations

import re
from typing import Any

from bot.registry import Handler, registry
from content.library import Library, load_library
from worker.queues import BOT

KNOW_PREFIX = "KNOW_"


def article_url(ctx: Any, article_id: str) -> str:
    return f"{ctx.config.service.public_url.rstrip('/')}/articles/{article_id}"


def type_url(ctx: Any, library: Library, type_id: str) -> str:
    articles = library.articles_for(type_id)
    return article_url(ctx, articles[0].id) if articles else ctx.config.service.public_url


def type_names(library: Library) -> dict[str, str]:
    """Every name a follower may use for a type → type id: the full name, the name without its
    bracketed note, the note itself (杀猪盘), and the short menu button names."""
    names: dict[str, str] = {}
    for fraud_type in library.fraud_types:
        names[fraud_type.name] = fraud_type.id
        bracketed = re.match(r"^(.+?)（(?:含)?(.+?)）$", fraud_type.name)
        if bracketed:
            names[bracketed.group(1)] = fraud_type.id
            names[bracketed.group(2)] = fraud_type.id
    for top in library.menu.get("button", []):
        for button in top.get("sub_button", []):
            key = button.get("key", "")
            if key.startswith(KNOW_PREFIX) and key[len(KNOW_PREFIX):] in library.types_by_id:
                names.setdefault(button["name"], key[len(KNOW_PREFIX):])
    return names


def explain_type(msg: Any, ctx: Any, type_id: str) -> str:
    library = ctx.library
    fraud_type = library.fraud_type(type_id)
    detail = ctx.reply("knowledge_detail", type_name=fraud_type.name,
                       warning_signs="\n".join(f"· {s}" for s in fraud_type.warning_signs),
                       typical_scripts="\n".join(f"“{s}”" for s in fraud_type.typical_scripts))
    # One follow-up per click: WeChat's own retries of this message share its CreateTime.
    ctx.queue(BOT).enqueue("bot.send_text", {"openid": msg.source, "text": detail},
                           job_id=f"know:{msg.source}:{int(msg.create_time.timestamp())}:{type_id}")
    return ctx.reply("knowledge_type", type_name=fraud_type.name,
                     how_it_works=fraud_type.how_it_works,
                     what_to_do="；".join(fraud_type.what_to_do),
                     article_url=type_url(ctx, library, type_id))


@registry.on_menu("KNOW_ALL")
@registry.on_text(r"^(防骗知识|骗局|骗局类型|更多骗局|了解骗局)$")
def list_types(msg: Any, ctx: Any) -> str:
    library = ctx.library
    items = "\n".join(ctx.reply("knowledge_list_item", type_name=t.name,
                                article_url=type_url(ctx, library, t.id))
                      for t in library.fraud_types)
    return ctx.reply("knowledge_menu", type_list=items)


def _explainer(type_id: str) -> Handler:
    def explain(msg: Any, ctx: Any) -> str:
        return explain_type(msg, ctx, type_id)
    return explain


def _register_menu_keys(library: Library) -> None:
    for fraud_type in library.fraud_types:
        registry.on_menu(KNOW_PREFIX + fraud_type.id)(_explainer(fraud_type.id))


_SHIPPED_NAMES = type_names(load_library())
_register_menu_keys(load_library())


@registry.on_text("^(?:了解)?(" + "|".join(map(re.escape, sorted(_SHIPPED_NAMES, key=len,
                                                                reverse=True))) + ")$")
def explain_by_name(msg: Any, ctx: Any) -> str:
    name = re.sub(r"^了解", "", msg.content.strip())
    type_id = type_names(ctx.library).get(name) or _SHIPPED_NAMES[name]
    return explain_type(msg, ctx, type_id)
