"""WeChat's API paths (``/cgi-bin/...``) with WeChat's JSON shapes and error codes.

Every view goes through ``wechat_api``: count the call, apply armed faults and rate limits,
check the access token, turn ``ApiError`` into WeChat's ``{"errcode", "errmsg"}`` body.
WeChat answers errors with HTTP 200; only injected ``http`` faults return 5xx.
"""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable
from typing import Any

import qrcode
from flask import Blueprint, Response, abort, jsonify, request
from qrcode.image.pil import PilImage

from sandbox import errors, wire
from sandbox.context import current
from sandbox.errors import ApiError

bp = Blueprint("sandbox_cgi", __name__, url_prefix="/cgi-bin")

# A view returns WeChat's JSON body, or a ready response (media/get answers with the file).
View = Callable[[], "dict[str, Any] | Response"]
OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
MAX_QR_IMAGES_CACHED = 256


def json_body() -> dict[str, Any]:
    """wechatpy posts JSON bytes without a JSON content type, so parse the raw body."""
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ApiError(errors.DATA_FORMAT_ERROR, "data format error") from None
    if not isinstance(body, dict):
        raise ApiError(errors.DATA_FORMAT_ERROR, "data format error")
    return body


def wechat_api(name: str, needs_token: bool = True) -> Callable[[View], Callable[[], Response]]:
    def decorate(view: View) -> Callable[[], Response]:
        @functools.wraps(view)
        def wrapper() -> Response:
            sandbox = current()
            sandbox.state.count_call(name)
            fault = sandbox.faults.take(name, sandbox.state.clock.now())
            if fault is not None and fault.kind == "hang":
                time.sleep(fault.hang_ms / 1000)
            elif fault is not None and fault.kind == "http":
                response = jsonify({"error": "sandbox injected HTTP failure"})
                response.status_code = fault.http_status
                return response
            elif fault is not None:
                return jsonify({"errcode": fault.errcode, "errmsg": fault.errmsg})
            try:
                if needs_token:
                    sandbox.state.check_token(request.args.get("access_token"))
                result = view()
                return result if isinstance(result, Response) else jsonify(result)
            except ApiError as exc:
                return jsonify(exc.body())
        return wrapper
    return decorate


@bp.get("/token")
@wechat_api("token", needs_token=False)
def token() -> dict[str, Any]:
    args = request.args
    return current().state.issue_token(args.get("grant_type"), args.get("appid"),
                                       args.get("secret"))


@bp.post("/stable_token")
@wechat_api("stable_token", needs_token=False)
def stable_token() -> dict[str, Any]:
    return current().state.issue_stable_token(json_body())


@bp.post("/message/template/send")
@wechat_api("message/template/send")
def template_send() -> dict[str, Any]:
    sandbox = current()
    entry = sandbox.state.send_template(json_body())
    assert entry.openid is not None and entry.msgid is not None
    # https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
    # "事件推送": the job-finish event follows the send asynchronously.
    xml = wire.job_finish_xml(sandbox.account, entry.openid, int(sandbox.state.clock.now()),
                              "TEMPLATESENDJOBFINISH", entry.msgid, Status="success")
    sandbox.webhook.schedule(sandbox.callback_delay_s, xml, entry.openid, "TEMPLATESENDJOBFINISH")
    return {**OK, "msgid": entry.msgid}


@bp.post("/message/custom/send")
@wechat_api("message/custom/send")
def custom_send() -> dict[str, Any]:
    current().state.send_custom(json_body())
    return OK


def _mass(mode: str) -> dict[str, Any]:
    sandbox = current()
    result = sandbox.state.mass_send(mode, json_body())
    if result.is_preview:
        return {"errcode": 0, "errmsg": "preview success", "msg_id": result.msg_id}
    operator = wire.operator_openid(sandbox.config.wechat.app_id)
    urls = [f"http://mp.weixin.qq.com/s/sandbox-{result.msg_id}-{i}"
            for i in range(1, result.article_count + 1)]
    xml = wire.mass_finish_xml(
        sandbox.account, operator, int(sandbox.state.clock.now()), result.msg_id,
        total_count=result.total_count, filter_count=result.filter_count,
        sent_count=result.sent_count, error_count=0, article_urls=urls)
    sandbox.webhook.schedule(sandbox.callback_delay_s, xml, operator, "MASSSENDJOBFINISH")
    return {"errcode": 0, "errmsg": "send job submission success", "msg_id": result.msg_id,
            "msg_data_id": result.msg_data_id}


@bp.post("/message/mass/sendall")
@wechat_api("message/mass/sendall")
def mass_sendall() -> dict[str, Any]:
    return _mass("sendall")


@bp.post("/message/mass/send")
@wechat_api("message/mass/send")
def mass_send() -> dict[str, Any]:
    return _mass("send")


@bp.post("/message/mass/preview")
@wechat_api("message/mass/preview")
def mass_preview() -> dict[str, Any]:
    return _mass("preview")


@bp.post("/qrcode/create")
@wechat_api("qrcode/create")
def qrcode_create() -> dict[str, Any]:
    return current().state.create_qr(json_body(), request.host_url)


@functools.lru_cache(maxsize=MAX_QR_IMAGES_CACHED)
def _qr_png(url: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(url, image_factory=PilImage).save(out, format="PNG")
    return out.getvalue()


@bp.get("/showqrcode")
def showqrcode() -> Response:
    """Served by mp.weixin.qq.com in production (no access token); unknown tickets 404."""
    qr = current().state.qr_for_ticket(request.args.get("ticket", ""))
    if qr is None:
        abort(404)
    return Response(_qr_png(qr.url), mimetype="image/png")


@bp.get("/user/info")
@wechat_api("user/info")
def user_info() -> dict[str, Any]:
    return current().state.user_info(request.args.get("openid"))


@bp.get("/user/get")
@wechat_api("user/get")
def user_get() -> dict[str, Any]:
    return current().state.followers_page(request.args.get("next_openid"))


@bp.post("/tags/create")
@wechat_api("tags/create")
def tags_create() -> dict[str, Any]:
    return current().state.create_tag(json_body())


@bp.get("/tags/get")
@wechat_api("tags/get")
def tags_get() -> dict[str, Any]:
    return current().state.tags()


@bp.post("/tags/members/batchtagging")
@wechat_api("tags/members/batchtagging")
def tags_batchtagging() -> dict[str, Any]:
    current().state.tag_members(json_body(), add=True)
    return OK


@bp.post("/tags/members/batchuntagging")
@wechat_api("tags/members/batchuntagging")
def tags_batchuntagging() -> dict[str, Any]:
    current().state.tag_members(json_body(), add=False)
    return OK


@bp.post("/tags/getidlist")
@wechat_api("tags/getidlist")
def tags_getidlist() -> dict[str, Any]:
    return current().state.user_tags(json_body())


@bp.post("/user/tag/get")
@wechat_api("user/tag/get")
def user_tag_get() -> dict[str, Any]:
    return current().state.tag_users_page(json_body())


@bp.post("/menu/create")
@wechat_api("menu/create")
def menu_create() -> dict[str, Any]:
    current().state.create_menu(json_body())
    return OK


@bp.get("/menu/get")
@wechat_api("menu/get")
def menu_get() -> dict[str, Any]:
    return current().state.get_menu()
