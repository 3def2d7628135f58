"""Worker jobs of registration: one-time codes by SMS, follower tagging by community."""

from __future__ import annotations

import logging
from typing import Any

from wechatpy.exceptions import WeChatClientException

from registration.binding import CODE_TTL_S, GUARD, SEND_CODE_JOB
from registration.sms import SmsGateway, make_sms_gateway
from registration.tags import TAG_JOB, tag_follower
from store import keys
from store.phones import PhoneVault
from store.streams import Job, PermanentJobError
from worker.jobs import WorkerContext, job

log = logging.getLogger(__name__)

SENT_MARKER_TTL_S = 86400
# Tagging errors that retrying cannot fix: not a follower / invalid openid, 20-tag limit.
PERMANENT_TAG_ERRORS = {40003, 43004, 45059, 40032}

_gateways: dict[int, SmsGateway] = {}


def _gateway(ctx: WorkerContext) -> SmsGateway:
    key = id(ctx.config)
    if key not in _gateways:
        _gateways[key] = make_sms_gateway(ctx.config)
    return _gateways[key]


@job(SEND_CODE_JOB)
def send_code(job_: Job, ctx: WorkerContext) -> None:
    """Send a binding code. The payload holds the number and code encrypted, never plain."""
    marker = keys.sms_sent_marker(job_.job_id)
    if ctx.redis.exists(marker):
        return
    vault = PhoneVault.from_config(ctx.config.privacy)
    try:
        phone = vault.decrypt(job_.payload["to"])
        code = vault.decrypt(job_.payload["code"])
    except Exception:  # noqa: BLE001 - bad base64, wrong key, tampered or missing field: all permanent
        raise PermanentJobError("undecryptable code job (key changed?)") from None
    template = "guard_sms_text" if job_.payload.get("purpose") == GUARD else "bind_sms_text"
    text = ctx.library.reply(template, code=code, ttl_min=CODE_TTL_S // 60)
    # SmsError propagates: the job stays pending and is retried after reclaim.
    _gateway(ctx).send(phone, text)
    ctx.redis.set(marker, "1", ex=SENT_MARKER_TTL_S)


@job(TAG_JOB)
def tag(job_: Job, ctx: WorkerContext) -> None:
    payload: dict[str, Any] = job_.payload
    try:
        tag_follower(ctx.redis, ctx.wechat, payload["openid"], payload["community"],
                     payload.get("previous", ""))
    except LookupError as exc:
        raise PermanentJobError(str(exc)) from None
    except WeChatClientException as exc:
        if exc.errcode in PERMANENT_TAG_ERRORS:
            raise PermanentJobError(f"tagging refused: {exc.errcode}") from None
        raise
