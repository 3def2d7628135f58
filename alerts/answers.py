"""A follower's answer to a warning, the urgent "已转账" case, and the 96110 call-back queue.

Every step here is idempotent on its own (HSETNX flags, call-back ids ``<alert>:<reason>``,
job ids ``notify:<alert>:<reason>:<officer>``), so a retried webhook or a crash between steps
never opens a case twice nor loses the officer's notice.
"""

from __future__ import annotations

import json
from typing import Any

from alerts.model import CHECKLIST, PAID
from alerts.store import AlertStore
from bot.webhook import short_id
from config import Config
from store import tallies
from telemetry import metrics
from store.redis import RedisClient
from store.streams import DurableQueue


def record_answer(config: Config, redis: RedisClient, queue: DurableQueue, alert_id: str,
                  openid: str, answer: str, via: str, now: float) -> bool:
    """Record "safe" or "paid" from ``openid``; "paid" opens the urgent case at once.
    False when the alert no longer exists (past retention)."""
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    state = store.get(alert_id)
    if not state:
        return False
    at_ms = int(now * 1000)
    fields = {"answer": answer, "answered_ms": str(at_ms), "answered_by": short_id(openid)}
    if not state.get("escalated_ms") and not state.get("case_opened_ms"):
        fields["status"] = "answered"
    store.update(alert_id, fields, event="answered", actor=f"follower:{short_id(openid)}",
                 at_ms=at_ms, answer=answer, via=via)
    store.clear_deadline(alert_id)
    tallies.add(redis, "alerts_answered_total", answer=answer)
    metrics.ANSWERS.labels(answer=answer).inc()
    if state.get("first_sent_ms") and not state.get("answered_ms"):
        metrics.ANSWER_LATENCY.observe(max(at_ms - int(state["first_sent_ms"]), 0) / 1000)
    if answer == PAID:
        open_urgent_case(store, redis, queue, alert_id, f"follower:{short_id(openid)}", at_ms)
    return True


def open_urgent_case(store: AlertStore, redis: RedisClient, queue: DurableQueue, alert_id: str,
                     actor: str, at_ms: int) -> None:
    """The follower already paid: stop-payment checklist, call-back entry, officers notified."""
    if store.set_once(alert_id, "case_opened_ms", str(at_ms)):
        store.set_once(alert_id, "checklist", json.dumps({item: None for item in CHECKLIST}))
        store.update(alert_id, {"status": "urgent"}, event="case_opened", actor=actor,
                     at_ms=at_ms)
        tallies.add(redis, "alerts_urgent_cases_total")
        metrics.URGENT_CASES.inc()
    store.add_urgent_case(alert_id, at_ms)
    state = store.get(alert_id)
    queue_callback(store, alert_id, PAID, state, at_ms)
    notify_officers(queue, alert_id, PAID, state)


def queue_callback(store: AlertStore, alert_id: str, reason: str, state: dict[str, str],
                   at_ms: int) -> bool:
    """A 96110 call-back entry, once per alert and reason. Holds the encrypted number only."""
    entry = {
        "id": f"{alert_id}:{reason}", "alert_id": alert_id, "reason": reason,
        "created_ms": at_ms, "status": "open", "phone_enc": state.get("phone_enc", ""),
        "fraud_type": state.get("fraud_type", ""), "channel": state.get("channel", ""),
        "counterpart": state.get("counterpart", ""), "risk_level": state.get("risk_level", ""),
        "stations": [s for s in state.get("stations", "").split(",") if s],
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
    store.remove_urgent_case(alert_id)
    return True
