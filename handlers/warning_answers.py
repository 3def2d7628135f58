"""One-tap answers to a fraud warning: "1"/安全/已挂断 and "2"/已转账/需要帮助.

Only a follower with an open warning is answering one; anyone else typing "1" or "安全" is
passed on (``PASS``) to the next candidate: other commands, an open dialog, the scam check.
The route is put first so no other pattern can swallow an answer; bare digits count only while
the follower's warning is still unanswered, while the words also work afterwards ("1", then
"已转账" when they realise they did pay).
"""

from __future__ import annotations

from typing import Any

from alerts.answers import record_answer
from alerts.model import PAID, classify_answer, is_bare_digit_answer
from alerts.store import AlertStore
from bot.registry import PASS, registry
from worker.queues import WARNINGS

ANSWER_PATTERN = r"^(1|2|安全|已挂断|已转账|需要帮助)$"


@registry.on_text(ANSWER_PATTERN, first=True)
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
        return PASS
    if not record_answer(ctx.config, ctx.redis, ctx.queue(WARNINGS), alert_id, msg.source, answer,
                         "reply", ctx.now()):
        return PASS
    return ctx.reply("alert_answer_paid" if answer == PAID else "alert_answer_safe")
