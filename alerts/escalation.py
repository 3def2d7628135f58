"""Unanswered warnings escalate: to the recipients' officers and the 96110 call-back queue.

Two halves, in two processes. The scheduler (``scheduler/escalation.py``) only looks at the
deadline zset and enqueues ``alert.escalate`` with the deterministic job id
``escalate:<alert_id>``: a second scheduler, or a fire during a lease hand-over, enqueues
nothing new (the queue's id marker). The worker runs the job; ``AlertStore.escalate_once``
marks the alert escalated only if ``alerts.answer_rules.needs_escalation`` says so (a guardian's
"safe" alone does not settle an alert whose owner was warned), atomically with answers.

Retention pruning of the call-back queue and the urgent-case lists runs here too
(``prune_lists``), from the scheduler.
"""

from __future__ import annotations

from alerts.answers import case_follow_ups, notify_officers, queue_callback
from alerts.store import AlertStore
from config import Config
from store import tallies
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics

UNANSWERED = "unanswered"


def enqueue_due(config: Config, redis: RedisClient, queue: DurableQueue, now: float) -> int:
    """Queue an escalation for every warning past its deadline; returns how many were new."""
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    queued = 0
    for alert_id in store.due(int(now * 1000)):
        if queue.enqueue("alert.escalate", {"alert_id": alert_id}, job_id=f"escalate:{alert_id}"):
            queued += 1
        store.clear_deadline(alert_id)
    return queued


def escalate(config: Config, redis: RedisClient, queue: DurableQueue, alert_id: str,
             now: float) -> bool:
    """Escalate if still unanswered; True when this alert is (now or already) escalated."""
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    at_ms = int(now * 1000)
    if store.escalate_once(alert_id, at_ms):
        store.update(alert_id, event="escalated", actor="scheduler", at_ms=at_ms,
                     reason=UNANSWERED)
        tallies.add(redis, "alerts_escalated_total")
        metrics.ESCALATIONS.inc()
    state = store.get(alert_id)
    if state.get("case_opened_ms") and not state.get("closed_ms"):
        # Someone paid: mend the case's follow-ups if the answer's run died before them.
        case_follow_ups(store, queue, alert_id, state, at_ms)
    if not state.get("escalated_ms"):
        return False
    # Idempotent follow-ups, repeated safely if a previous run died half-way.
    queue_callback(store, alert_id, UNANSWERED, state, at_ms)
    notify_officers(queue, alert_id, UNANSWERED, state)
    return True


def prune_lists(config: Config, redis: RedisClient, now: float) -> int:
    """Drop call-back entries and urgent-case list items older than ``alerts.retention_days``
    (the alerts they point to have expired by then)."""
    retention_s = config.alerts.retention_days * 86400
    return AlertStore(redis, retention_s).prune(int((now - retention_s) * 1000))
