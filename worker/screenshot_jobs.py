"""The SCREENSHOTS queue's job: fetch a picture with ``media/get``, read it, check it, answer.

Failure policy ("dead letter only where a retry could help"):
- a bad picture (not an image, truncated, over 10 MB, too many pixels), an expired or unknown
  media id (40007), or no text: the citizen is told why; the job succeeds (the same bytes would
  fail the same way);
- ``media/get`` failing for a passing reason (system busy, network): the job is retried by the
  queue; on its last delivery the citizen is told to resend and the job is dead-lettered;
- OCR time-out (an overloaded box): the citizen is told to resend and the job is dead-lettered,
  so staff can retry it from 失败投递 once the load is gone;
- the answer cannot be delivered because the citizen left or the 48 h window closed
  (43004 / 45015 / 45047): dead-lettered at once, a retry would meet the same refusal.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from wechatpy.exceptions import WeChatClientException

from bot.webhook import short_id
from handlers.reports import candidates
from intel import reports, risklist
from intel.scamcheck import check_text
from screenshots import images, ocr, results
from screenshots.jobs import READ_JOB
from screenshots.verdict import judge
from store.streams import Job, PermanentJobError
from worker.jobs import WorkerContext, job

log = logging.getLogger(__name__)

INVALID_MEDIA_ID = 40007
# The follower is gone or the customer-service window is closed: no retry can deliver.
UNDELIVERABLE = frozenset({40003, 43004, 45015, 45047})


@dataclass
class Outcome:
    status: str
    reply: str
    fields: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    line_count: int = 0
    ocr_ms: int = 0
    fraud_type: str = ""


def _download(ctx: WorkerContext, media_id: str) -> bytes | None:
    """The picture's bytes; None when WeChat no longer has it (40007)."""
    try:
        response = ctx.wechat.media.download(media_id)
    except WeChatClientException as exc:
        if exc.errcode == INVALID_MEDIA_ID:
            return None
        raise
    # wechatpy returns the parsed body when it is JSON without an errcode (a video's URL).
    return response.content if hasattr(response, "content") else b""


def _read(job_: Job, ctx: WorkerContext) -> Outcome:
    data = _download(ctx, job_.payload["media_id"])
    if data is None:
        return Outcome("expired", "screenshot_expired")
    try:
        image = images.decode(data)
    except images.BadImage as exc:
        log.info("screenshot %s refused: %s", job_.job_id[:12], exc)
        fields = ({"limit_mb": images.MAX_IMAGE_BYTES // (1024 * 1024)}
                  if isinstance(exc, images.ImageTooLarge) else {})
        return Outcome(exc.reply, exc.reply, fields)
    del data
    settings = ctx.config.screenshots
    reading = ocr.read(images.scale_for_ocr(image), timeout_s=settings.ocr_timeout_s,
                       threads=settings.ocr_threads)
    lines = reading.paragraphs
    verdict = judge(lines, ctx.library, ctx.config.service.public_url,
                    risk_lookup=risklist.lookup_fn(ctx.redis,
                                                   risklist.risk_key(ctx.config.privacy)))
    fraud_type = verdict.result.fraud_type if verdict.result and verdict.result.fraud else ""
    return Outcome("read" if lines else "no_text", verdict.reply, verdict.fields,
                   reading.text, len(lines), reading.elapsed_ms, fraud_type or "")


def _answer(ctx: WorkerContext, job_: Job, text: str) -> None:
    """One customer-service message per job, whatever the redeliveries."""
    openid = job_.payload["openid"]
    if not results.claim_send(ctx.redis, job_.job_id, ctx.clock()):
        return
    try:
        ctx.wechat.message.send_text(openid, text)
    except WeChatClientException as exc:
        results.release_send(ctx.redis, job_.job_id)
        if exc.errcode in UNDELIVERABLE:
            raise PermanentJobError(f"answer undeliverable to {short_id(openid)}: "
                                    f"{exc.errcode}") from exc
        raise
    except Exception:
        results.release_send(ctx.redis, job_.job_id)
        raise


def _is_last_delivery(job_: Job, ctx: WorkerContext) -> bool:
    return job_.deliveries >= ctx.config.queue.max_deliveries


@job(READ_JOB)
def read_screenshot(job_: Job, ctx: WorkerContext) -> None:
    clue_id = job_.payload.get("clue_id", "")
    try:
        outcome = _read(job_, ctx)
    except ocr.OcrTimeout as exc:
        results.record(ctx.redis, ctx.config, job_.job_id, status="timeout",
                       reply="screenshot_timeout")
        if not clue_id:
            _answer(ctx, job_, ctx.library.reply("screenshot_timeout"))
        raise PermanentJobError(f"ocr: {exc}") from exc
    except Exception as exc:
        # media/get busy or unreachable: the queue retries; the last try tells the citizen.
        if _is_last_delivery(job_, ctx):
            if not clue_id:
                _answer(ctx, job_, ctx.library.reply("screenshot_failed"))
            raise PermanentJobError(f"gave up: {type(exc).__name__}: {exc}") from exc
        raise
    results.record(ctx.redis, ctx.config, job_.job_id, status=outcome.status,
                   reply=outcome.reply, text=outcome.text, line_count=outcome.line_count,
                   ocr_ms=outcome.ocr_ms, fraud_type=outcome.fraud_type)
    if clue_id:
        # A 举报 picture: the text joins the clue for staff review; the receipt was the answer.
        if outcome.text:
            suggested = check_text(outcome.text, ctx.library).fraud_type or ""
            reports.attach_recognised_text(ctx.redis, ctx.config, clue_id, outcome.text,
                                           candidates, suggested_type=suggested)
        return
    _answer(ctx, job_, ctx.library.reply(outcome.reply, **outcome.fields))
