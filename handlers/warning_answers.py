"""One-tap answers to a fraud warning: "1"/安全/已挂断 and "2"/已转账/需要帮助.

Only a follower with an open warning is answering one; anyone else typing "1" or "安全" is
routed on as if this handler did not exist (other commands, an open dialog, the scam check).
The route is put first so no other pattern can swallow an answer; bare digits count only while
the follower's warning is still unanswered, while the words also work afterwards ("1", then
"已转账" when they realise they did pay).
"""

from __future__ import annotations

import re
from typing import Any

from alerts.answers import record_answer
from alerts.model import PAID, classify_answer, is_bare_digit_answer
from alerts.store import AlertStore
from bot.dialogs import current_dialog
from bot.registry import registry
from worker.queues import WARNINGS

ANSWER_PATTERN = r"^(1|2|安全|已挂断|已转账|需要帮助)$"


def answer_warning(msg: Any, ctx: Any) -> Any:
    content = (msg.content or "").strip()
    answer = classify_answer(content)
    store = AlertStore(ctx.redis, ctx.config.alerts.retention_days * 86400)
    alert_id = store.current_warning(msg.source) if answer else None
    if alert_id and is_bare_digit_answer(content):
        state = store.get(alert_id)
        if state.get("answer") and state.get("answered_by"):
            alert_id = None
    if not alert_id or answer is None:
        return _route_on(msg, ctx, content)
    if not record_answer(ctx.config, ctx.redis, ctx.queue(WARNINGS), alert_id, msg.source, answer,
                         "reply", ctx.now()):
        return _route_on(msg, ctx, content)
    return ctx.reply("alert_answer_paid" if answer == PAID else "alert_answer_safe")


def _route_on(msg: Any, ctx: Any, content: str) -> Any:
    """What the registry would have chosen without this handler."""
    for pattern, handler in registry.text_routes:
        if handler is not answer_warning and pattern.search(content):
            return handler(msg, ctx)
    dialog = current_dialog(ctx, msg.source)
    if dialog and dialog in registry.dialog_routes:
        return registry.dialog_routes[dialog](msg, ctx)
    if registry.text_fallback is not None:
        return registry.text_fallback(msg, ctx)
    return None


# First in line: a warning answer must never be taken for another command.
registry.text_routes.insert(0, (re.compile(ANSWER_PATTERN), answer_warning))
