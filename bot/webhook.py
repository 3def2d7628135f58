"""The ``/wechat`` endpoint: verify, decrypt, parse, deduplicate, dispatch, reply.

WeChat waits 5 s for an answer, then retries the same message twice more
(https://developers.weixin.qq.com/doc/service/en/Message_Management/Passive_user_reply_message.html).
Each message is handled once: its dedup key is claimed with ``SET NX`` before the handler runs and
the rendered reply is cached under it, so a retry gets the same reply without a second handling.
Anything slow is queued by the handler and answered later by customer-service message.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import BaseReply, TextReply

from bot import inbound
from bot.context import HandlerContext
from bot.dialogs import DIALOG_NAME
from bot.registry import NOT_HANDLED, Registry
from store import keys
from store.redis import FAILOVER_ERRORS, refresh_slot_map, ride_out_failover

log = logging.getLogger(__name__)

PENDING = "\x00pending"

# Platform notifications and unfollows are not the follower acting, so they open no window.
NOT_USER_ACTIONS = frozenset({"templatesendjobfinish", "masssendjobfinish", "unsubscribe",
                              "view", "location"})


def short_id(openid: str) -> str:
    """Openids are pseudonymous but still personal: logs get a prefix only."""
    return openid[:6] + "…" if openid else "-"


def make_blueprint(registry: Registry) -> Blueprint:
    bp = Blueprint("wechat", __name__)

    def crypto() -> WeChatCrypto | None:
        wx = current_app.config["ENDFRAUD"].wechat
        if wx.encrypt_mode == "plain":
            return None
        return WeChatCrypto(wx.token, wx.encoding_aes_key, wx.app_id)

    def authenticate() -> None:
        wx = current_app.config["ENDFRAUD"].wechat
        try:
            inbound.check_signature(wx.token, request.args, time.time(), wx.timestamp_window_s)
        except inbound.BadSignature as exc:
            log.warning("webhook: refused request: %s", exc)
            abort(403)

    @bp.get("/wechat")
    def verify_server() -> Response:
        authenticate()
        return Response(request.args.get("echostr", ""), mimetype="text/plain")

    @bp.post("/wechat")
    def receive() -> Response:
        config = current_app.config["ENDFRAUD"]
        authenticate()
        if (request.content_length or 0) > config.wechat.max_body_bytes:
            abort(413)
        body = request.get_data(cache=False)
        if len(body) > config.wechat.max_body_bytes:
            abort(413)
        if not body:
            abort(400)
        box = crypto()
        try:
            parsed = inbound.parse_inbound(body, request.args, config.wechat.encrypt_mode, box)
        except inbound.BadSignature as exc:
            log.warning("webhook: refused message: %s", exc)
            abort(403)
        except inbound.BadMessage as exc:
            log.warning("webhook: bad message: %s", exc)
            abort(400)
        message = parsed.message
        if not parsed.encrypted:
            # Compatible mode: a plaintext post is answered in plaintext.
            box = None

        redis = current_app.config["REDIS"]
        ctx = HandlerContext(config=config, redis=redis)
        dedup = keys.webhook_dedup(inbound.dedup_key(message))
        nonce_key, nonce_ttl_s = _nonce_record(request.args, config.wechat.timestamp_window_s)
        # One round trip: record the signed nonce, claim the message and read what routing and
        # the reply may need: an open dialog (only text routes through one, bot.registry), for
        # what answers the follower the content revision (so the cached library needs no round
        # trip of its own; a handler of a platform notice that wants it reads it then), and the
        # keys the event's handler asked for (a receipt's msgid).
        is_text = message.type == "text"
        is_user_action = message.type != "event" or message.event not in NOT_USER_ACTIONS
        wanted = registry.reads(message)
        # The claim names this request, so a repeat of the trip (riding out a failover, in which
        # some of its commands may have run) knows the claim is its own. A claim left by a trip
        # that failed for good is released below or expires; a pending claim is never answered
        # with a handling that did not happen (WeChat's retry must find it free).
        claim = PENDING + secrets.token_hex(6)

        def first_trip() -> list[Any]:
            pipe = redis.pipeline(transaction=False)
            pipe.set(nonce_key, parsed.digest, nx=True, ex=nonce_ttl_s)
            pipe.set(dedup, claim, nx=True, ex=config.wechat.dedup_ttl_s)
            pipe.get(dedup)
            if is_text:
                pipe.hget(keys.dialog(message.source), DIALOG_NAME)
            if is_user_action:
                pipe.get(keys.content_revision())
            for key in wanted:
                pipe.get(key)
            try:
                return list(pipe.execute())
            except FAILOVER_ERRORS:
                # A cluster pipeline keeps its slot map: learn the promoted replica before the
                # next try, or every try meets the dead master again.
                refresh_slot_map(redis)
                raise

        try:
            first_use, _set, holder, *read = ride_out_failover(first_trip)
        except FAILOVER_ERRORS:
            # Some commands may have run: free the claim if it is ours, so the retry is handled.
            with contextlib.suppress(*FAILOVER_ERRORS):
                if redis.get(dedup) == claim:
                    redis.delete(dedup)
            raise
        claimed = holder == claim
        dialog_name = read.pop(0) if is_text else None
        if is_user_action:
            ctx.content_revision = read.pop(0)
        ctx.prefetched = dict(zip(wanted, read, strict=True))
        if not first_use and redis.get(nonce_key) != parsed.digest:
            # The signature never covers the body: one triple from an access log could carry
            # any message inside the window. The same body again is WeChat's retry (below it
            # gets the first answer); another body is a forgery. Undo the claim it made.
            if claimed:
                redis.delete(dedup)
            log.warning("webhook: refused message: nonce replayed with another body")
            abort(403)
        if not claimed:
            cached = redis.get(dedup)
            log.info("webhook: duplicate delivery from %s", short_id(message.source))
            if cached and not cached.startswith(PENDING):
                return _xml_response(cached)
            return _success()

        try:
            result = registry.dispatch(message, ctx, dialog_name)
        except Exception:
            # Release the claim so WeChat's retry can handle the message again.
            redis.delete(dedup)
            log.exception("webhook: handling %s from %s failed", message.type,
                          short_id(message.source))
            abort(500)
        if result is NOT_HANDLED:
            log.info("webhook: no handler for %s/%s from %s", message.type,
                     getattr(message, "event", "-"), short_id(message.source))
            result = None
        xml = _render(result, message, box)
        # One round trip: cache the answer for WeChat's retries and note the follower's action.
        # A plain "success" needs no copy: a retry finding the claim pending gets "success" too.
        if xml is not None or is_user_action:
            ride_out_failover(lambda: _record_answer(redis, dedup, xml, message, is_user_action,
                                                     int(ctx.now())))
        return _success() if xml is None else _xml_response(xml)

    return bp


def _record_answer(redis: Any, dedup: str, xml: str | None, message: Any,
                   is_user_action: bool, now_s: int) -> None:
    """Both writes are safe to repeat (a failover ridden out); a new pipeline each time, since
    redis-py empties a pipeline that failed."""
    pipe = redis.pipeline(transaction=False)
    if xml is not None:
        pipe.set(dedup, xml, xx=True, keepttl=True)
    if is_user_action:
        # Any user action opens WeChat's 48 h customer-service window for this follower
        # (read by broadcasts only, so after the handler is soon enough).
        pipe.hset(keys.follower_last_active(message.source), message.source, now_s)
    pipe.execute()


def _nonce_record(args: Any, window_s: int) -> tuple[str, int]:
    """The key remembering which message a signed timestamp/nonce carried, and its TTL: the
    triple is accepted until timestamp + window (inbound.check_signature), so until then."""
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    ttl_s = max(1, int(timestamp) + window_s - int(time.time()) + 1)
    return keys.webhook_nonce(timestamp, nonce), ttl_s


def _render(result: Any, message: Any, box: WeChatCrypto | None) -> str | None:
    if result is None or result == "":
        return None
    reply = result if isinstance(result, BaseReply) else TextReply(message=message,
                                                                   content=str(result))
    xml = reply.render()
    if box is not None:
        xml = box.encrypt_message(xml, request.args.get("nonce", ""), str(int(time.time())))
    return str(xml)


def _success() -> Response:
    return Response("success", mimetype="text/plain")


def _xml_response(xml: str) -> Response:
    if xml == "success":
        return _success()
    return Response(xml, mimetype="application/xml")
