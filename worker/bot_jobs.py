"""Slow work the bot hands off to stay inside WeChat's 5 s: answered by customer-service message."""

from __future__ import annotations

from store.streams import Job
from worker.jobs import WorkerContext, job


@job("bot.send_text")
def send_text(job_: Job, ctx: WorkerContext) -> None:
    ctx.wechat.message.send_text(job_.payload["openid"], job_.payload["text"])
