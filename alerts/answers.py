"""A follower's answer to a warning, the urgent "已转账" case, and the 96110 call-back queue.

Every step here is idempotent on its own (HSETNX flags, call-back ids ``<alert>:<reason>``,
job ids ``notify:<alert>:<reason>:<officer>``), so a retried webhook or a crash between steps
never opens a case twice nor loses the officer's notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alerts import answer_rules
from alerts.model import CHECKLIST, PAID
from alerts.store import AlertStore
from bot.webhook import short_id
from config import Config
from store import keys, tallies
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics

# An answer link is one person's; more posts than this in the window are refused (429).
LINK_POSTS_PER_WINDOW = 5
LINK_POST_WINDOW_S = 600


@dataclass(frozen=True)
class Recorded:
    """The outcome of one answer: this person's answer as it now stands (what to reply), and
    whether the alert was already closed (the answer went on its timeline only)."""

    own_answer: str
    late: bool


def reply_for(recorded: Recorded) -> str:
    """The content reply confirming an answer: the person's answer as it now stands; on a closed
    alert, that staff handled it (and, if they paid, to call 110 now)."""
    if recorded.late:
        return "alert_answer_closed"
    return "alert_answer_paid" if recorded.own_answer == PAID else "alert_answer_safe"


def own_answer(store: AlertStore, alert_id: str, openid: str) -> str:
    """What this person answered so far ("" for nothing yet)."""
    return answer_rules.parse(store.get(alert_id)).answers.get(openid, "")


def allow_link_post(redis: RedisClient, alert_id: str, openid: str) -> bool:
    """Count one post of an answer link; False past ``LINK_POSTS_PER_WINDOW`` in the window."""
    key = keys.alert_answer_posts(alert_id, openid)
    pipe = redis.pipeline(transaction=True)
    pipe.set(key, 0, ex=LINK_POST_WINDOW_S, nx=True)
    pipe.incr(key)
    return int(pipe.execute()[1]) <= LINK_POSTS_PER_WINDOW


def record_answer(config: Config, redis: RedisClient, queue: DurableQueue, alert_id: str,
                  openid: str, answer: str, via: str, now: float) -> Recorded | None:
    """Record "safe" or "paid" from ``openid`` (rules: ``alerts.answer_rules``); "paid" opens the
    urgent case at once. None when the alert no longer exists (past retention)."""
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    at_ms = int(now * 1000)
    actor = f"follower:{short_id(openid)}"
    checklist = json.dumps(dict.fromkeys(CHECKLIST))
    result = store.apply_answer(alert_id, openid, answer, via=via, at_ms=at_ms, actor=actor,
                                case_fields={"checklist": checklist})
    if result is None:
        return None
    decision, before = result
    if decision.event == "answered":
        tallies.add(redis, "alerts_answered_total", answer=answer)
        metrics.ANSWERS.labels(answer=answer).inc()
        if before.get("first_sent_ms") and not before.get("answered_ms"):
            metrics.ANSWER_LATENCY.observe(max(at_ms - int(before["first_sent_ms"]), 0) / 1000)
    if decision.open_case:
        tallies.add(redis, "alerts_urgent_cases_total")
        metrics.URGENT_CASES.inc()
    after = store.get(alert_id)
    current = answer_rules.parse(after)
    if current.case_opened and not current.closed and PAID in (answer, decision.own_answer):
        # Repeated on every "paid" (all steps idempotent). The deadline is cleared only after
        # them, so a crash in between is mended by the escalation job (or the next "paid").
        case_follow_ups(store, queue, alert_id, after, at_ms)
    if answer_rules.is_settled(current):
        store.clear_deadline(alert_id)
    return Recorded(decision.own_answer, decision.late)


def open_urgent_case(store: AlertStore, redis: RedisClient, queue: DurableQueue, alert_id: str,
                     actor: str, at_ms: int) -> None:
    """Open the urgent case without an answer (e.g. staff or tests): checklist, list, call-back,
    officers notified."""
    if store.set_once(alert_id, "case_opened_ms", str(at_ms)):
        store.set_once(alert_id, "checklist", json.dumps(dict.fromkeys(CHECKLIST)))
        store.update(alert_id, {"status": "urgent"}, event="case_opened", actor=actor,
                     at_ms=at_ms)
        tallies.add(redis, "alerts_urgent_cases_total")
        metrics.URGENT_CASES.inc()
    case_follow_ups(store, queue, alert_id, store.get(alert_id), at_ms)


def case_follow_ups(store: AlertStore, queue: DurableQueue, alert_id: str, state: dict[str, str],
                    at_ms: int) -> None:
    """The urgent case's visible effects, each idempotent: the desk's list, the 96110 call-back
    ``<alert>:paid`` and a notice to each officer."""
    store.add_urgent_case(alert_id, int(state.get("case_opened_ms") or at_ms), _stations(state))
    queue_callback(store, alert_id, PAID, state, at_ms)
    notify_officers(queue, alert_id, PAID, state)


def _stations(state: dict[str, str]) -> list[str]:
    return [s for s in state.get("stations", "").split(",") if s]


def queue_callback(store: AlertStore, alert_id: str, reason: str, state: dict[str, str],
                   at_ms: int) -> bool:
    """A 96110 call-back entry, once per alert and reason. Holds the encrypted number only."""
    entry = {
        "id": f"{alert_id}:{reason}", "alert_id": alert_id, "reason": reason,
        "created_ms": at_ms, "status": "open", "phone_enc": state.get("phone_enc", ""),
        "fraud_type": state.get("fraud_type", ""), "channel": state.get("channel", ""),
        "counterpart": state.get("counterpart", ""), "risk_level": state.get("risk_level", ""),
        "stations": _stations(state),
        "attempts": [],
    }
    added = store.add_callback(entry)
    if added:
        store.update(alert_id, event="callback_queued", actor="system", at_ms=at_ms,
                     reason=reason)
    return added


def notify_officers(queue: DurableQueue, alert_id: str, reason: str,
                    state: dict[str, str]) -> None:
    for officer_id in [o for o in state.get("officers", "").split(",") if o]:
        queue.enqueue("alert.notify_officer",
                      {"alert_id": alert_id, "officer_id": officer_id, "reason": reason},
                      job_id=f"notify:{alert_id}:{reason}:{officer_id}")


def update_checklist(store: AlertStore, alert_id: str, item: str, done: bool, staff: str,
                     at_ms: int) -> dict[str, Any] | None:
    """Tick (or untick) one stop-payment step; None when the alert has no urgent case."""
    state = store.get(alert_id)
    if not state.get("checklist") or item not in CHECKLIST:
        return None
    checklist = json.loads(state["checklist"])
    checklist[item] = {"at_ms": at_ms, "staff": staff} if done else None
    store.update(alert_id, {"checklist": json.dumps(checklist)}, event="checklist",
                 actor=f"staff:{staff}", at_ms=at_ms, item=item, done=done)
    return dict(checklist)


def close_alert(store: AlertStore, alert_id: str, staff: str, note: str, at_ms: int) -> bool:
    if not store.set_once(alert_id, "closed_ms", str(at_ms)):
        return False
    store.update(alert_id, {"status": "closed", "closed_by": staff}, event="closed",
                 actor=f"staff:{staff}", at_ms=at_ms, note=note[:500])
    store.clear_deadline(alert_id)
    store.remove_urgent_case(alert_id, _stations(store.get(alert_id)))
    return True
