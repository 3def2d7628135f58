"""Warning jobs on the WARNINGS stream: record an alert, warn one person, notify an officer,
escalate. Each is idempotent (see alerts.delivery and alerts.intake)."""

from __future__ import annotations

import logging

from alerts.escalation import escalate
from alerts.intake import enqueue_warning, record_alert
from bot.webhook import short_id
from store.streams import DurableQueue, Job
from worker.jobs import WorkerContext, job
from worker.queues import WARNINGS

log = logging.getLogger(__name__)


def _queue(ctx: WorkerContext) -> DurableQueue:
    return DurableQueue(ctx.redis, WARNINGS, ctx.config.queue)


@job("alert.received")
def alert_received(job_: Job, ctx: WorkerContext) -> None:
    queue = _queue(ctx)
    alert_id = job_.payload["alert_id"]
    recipients = record_alert(ctx.config, ctx.redis, queue, job_.payload, job_.enqueued_ms,
                              ctx.clock())
    # Warn right here (no second trip through the stream behind newer alerts). This job is
    # acked only after the loop, so a crash mid-loop re-runs it and the marker claim sorts out
    # who was warned. Anyone not warned now gets their own job: own retries, own dead letter.
    deliverer = ctx.deliverer
    for follower, role in recipients:
        try:
            # The record intake just read: the deliverer need not read it again.
            deliverer.warn_follower(alert_id, follower.openid, role, follower=follower)
        except Exception as exc:  # noqa: BLE001 - handed to the per-person job below
            log.info("alert %s: warning %s handed to its own job (%s)", alert_id,
                     short_id(follower.openid), type(exc).__name__)
            enqueue_warning(queue, alert_id, follower.openid, role)


@job("alert.warn")
def alert_warn(job_: Job, ctx: WorkerContext) -> None:
    p = job_.payload
    # A staff retry of a dead letter (new job id ``…:retry:…``) may re-send an unconfirmed one.
    ctx.deliverer.warn_follower(p["alert_id"], p["openid"], p["role"],
                                  staff_retry=":retry:" in job_.job_id)


@job("alert.notify_officer")
def alert_notify_officer(job_: Job, ctx: WorkerContext) -> None:
    p = job_.payload
    ctx.deliverer.notify_officer(p["alert_id"], p["officer_id"], p["reason"])


@job("alert.escalate")
def alert_escalate(job_: Job, ctx: WorkerContext) -> None:
    escalate(ctx.config, ctx.redis, _queue(ctx), job_.payload["alert_id"], ctx.clock())
