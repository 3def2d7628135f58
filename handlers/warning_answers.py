"""One-tap answers to a fraud warning: "1"/安全/已挂断 and "2"/已转账/需要帮助.

Only a follower with an open warning (``alw:{<openid>}``, 24 h) is answering one; anyone else
typing "1" or "安全" is passed on (``PASS``) to the next candidate: other commands, an open
dialog, the scam check. The route is put first so no other pattern can swallow an answer. Each
person's answer is their own (``alerts.answer_rules``): a guardian's "1" never makes the owner's
"2" fall through, and "2" always counts, also after one's own "1".
"""

from __future__ import annotations

from typing import Any

from alerts.answers import record_answer, reply_for
from alerts.model import classify_answer
from alerts.store import AlertStore
from bot.registry import PASS, registry
from worker.queues import WARNINGS

# Full-width "１"/"２" too: Chinese input methods type them (classify_answer folds them by NFKC).
ANSWER_PATTERN = r"^(1|2|１|２|安全|已挂断|已转账|需要帮助)$"


@registry.on_text(ANSWER_PATTERN, first=True)
def answer_warning(msg: Any, ctx: Any) -> Any:
    answer = classify_answer(msg.content or "")
    store = AlertStore(ctx.redis, ctx.config.alerts.retention_days * 86400)
    alert_id = store.current_warning(msg.source) if answer else None
    if not alert_id or answer is None:
        return PASS
    recorded = record_answer(ctx.config, ctx.redis, ctx.queue(WARNINGS), alert_id, msg.source,
                             answer, "reply", ctx.now())
    if recorded is None:
        return PASS
    return ctx.reply(reply_for(recorded))
