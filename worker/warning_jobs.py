"""Warning jobs on the WARNINGS stream: record an alert, warn one person, notify an officer,
escalate. Each is idempotent (see alerts.delivery and alerts.intake)."""

from __future__ import annotations

from alerts.delivery import Deliverer
from alerts.escalation import escalate
from alerts.intake import record_alert
from store.streams import DurableQueue, Job
from worker.jobs import WorkerContext, job
from worker.queues import WARNINGS


def _queue(ctx: WorkerContext) -> DurableQueue:
    return DurableQueue(ctx.redis, WARNINGS, ctx.config.queue)


def _deliverer(ctx: WorkerContext) -> Deliverer:
    return Deliverer(ctx.config, ctx.redis, ctx.wechat, ctx.library, clock=ctx.clock)


@job("alert.received")
def alert_received(job_: Job, ctx: WorkerContext) -> None:
    record_alert(ctx.config, ctx.redis, _queue(ctx), job_.payload, job_.enqueued_ms, ctx.clock())


@job("alert.warn")
def alert_warn(job_: Job, ctx: WorkerContext) -> None:
    p = job_.payload
    _deliverer(ctx).warn_follower(p["alert_id"], p["openid"], p["role"])


@job("alert.notify_officer")
def alert_notify_officer(job_: Job, ctx: WorkerContext) -> None:
    p = job_.payload
    _deliverer(ctx).notify_officer(p["alert_id"], p["officer_id"], p["reason"])


@job("alert.escalate")
def alert_escalate(job_: Job, ctx: WorkerContext) -> None:
    escalate(ctx.config, ctx.redis, _queue(ctx), job_.payload["alert_id"], ctx.clock())
