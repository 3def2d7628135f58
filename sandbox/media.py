"""Temporary media: what a simulated phone uploads as an image message, served back to the app
through ``GET /cgi-bin/media/get`` as WeChat does.

- An image message carries ``PicUrl`` and ``MediaId``; the media stays downloadable for 3 days,
  after which ``media/get`` answers ``{"errcode": 40007, "errmsg": "invalid media_id"}``, as it
  does for an id it never issued (获取临时素材 / 新增临时素材: "媒体文件在微信后台保存时间为3天",
  https://developers.weixin.qq.com/doc/service/api/material/temporary/api_getmedia,
  https://developers.weixin.qq.com/doc/service/api/material/temporary/api_uploadtempmedia).
- A found medium is the file itself with ``Content-Type`` and
  ``Content-disposition: attachment; filename="<media_id>.<ext>"``; errors are JSON with HTTP 200.
- Real media ids are 64 characters of ``[A-Za-z0-9_-]`` (community report:
  https://developers.weixin.qq.com/community/personal/oCJUsw6zLTBocfBZ3DLjV4VfqyoU/question).

The phone may upload more than WeChat's 10 MB image limit on purpose (up to
``MAX_UPLOAD_BYTES``): the app's own limit must be testable end to end. The store is bounded in
bytes (oldest dropped first) so a long demo keeps a flat memory profile.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from sandbox import phone, wire
from sandbox.cgi import wechat_api
from sandbox.context import current
from sandbox.errors import ApiError, SandboxError

MEDIA_TTL_S = 3 * 24 * 3600
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_STORED_BYTES = 256 * 1024 * 1024
INVALID_MEDIA_ID = 40007
_ID_CHARS = string.ascii_letters + string.digits + "_-"
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}

bp = Blueprint("sandbox_media", __name__)


@dataclass(frozen=True)
class Media:
    media_id: str
    data: bytes
    content_type: str
    created_s: float

    @property
    def filename(self) -> str:
        return f"{self.media_id}.{_EXTENSIONS.get(self.content_type, 'jpg')}"


class MediaStore:
    """Uploaded media by id, oldest first; bounded by total bytes; thread-safe."""

    def __init__(self, max_bytes: int = MAX_STORED_BYTES) -> None:
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Media] = OrderedDict()
        self._bytes = 0

    def put(self, data: bytes, content_type: str, now_s: float) -> Media:
        media = Media("".join(secrets.choice(_ID_CHARS) for _ in range(64)), data,
                      content_type, now_s)
        with self._lock:
            self._items[media.media_id] = media
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.data)
        return media

    def get(self, media_id: str, now_s: float) -> Media:
        """The medium, or WeChat's 40007 when unknown, dropped or older than 3 days."""
        with self._lock:
            media = self._items.get(media_id)
        if media is None or now_s - media.created_s >= MEDIA_TTL_S:
            raise ApiError(INVALID_MEDIA_ID, "invalid media_id")
        return media

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def install(app: Flask) -> None:
    app.extensions["sandbox_media"] = MediaStore()
    app.register_blueprint(bp)


def store() -> MediaStore:
    media: MediaStore = current_app.extensions["sandbox_media"]
    return media


def image_xml(account: str, openid: str, create_time: int, pic_url: str, media_id: str,
              msg_id: int) -> str:
    """An image message as WeChat POSTs it (接收普通消息 · 图片消息,
    https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html)."""
    return wire.to_xml({"ToUserName": account, "FromUserName": openid,
                        "CreateTime": create_time, "MsgType": "image", "PicUrl": pic_url,
                        "MsgId": msg_id, "MediaId": media_id})


def _uploaded() -> tuple[bytes, str]:
    upload = request.files.get("file")
    if upload is not None:
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
        content_type = upload.mimetype or "application/octet-stream"
    else:
        data = request.get_data(cache=False)
        content_type = request.mimetype or "application/octet-stream"
    if not data:
        raise SandboxError("no image uploaded (multipart field 'file' or a raw body)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SandboxError(f"upload over {MAX_UPLOAD_BYTES} bytes", status=413)
    return data, content_type


@bp.post("/sandbox/api/citizens/<openid>/image")
def send_image(openid: str) -> dict[str, Any]:
    """The citizen sends a picture: stored as temporary media, then an image message."""
    sandbox = current()
    data, content_type = _uploaded()
    media = store().put(data, content_type, sandbox.state.clock.now())
    pic_url = request.host_url + "sandbox/media/" + media.media_id
    create_time, msg_id = sandbox.state.send_media_message(
        openid, {"msgtype": "image", "pic_url": pic_url, "media_id": media.media_id})
    xml = image_xml(sandbox.account, openid, create_time, pic_url, media.media_id, msg_id)
    result = phone.deliver(sandbox, openid, "image", xml)
    return {**result, "media_id": media.media_id, "pic_url": pic_url, "msg_id": msg_id}


@bp.get("/cgi-bin/media/get")
@wechat_api("media/get")
def media_get() -> Response:
    media = store().get(request.args.get("media_id", ""), current().state.clock.now())
    return _file(media)


@bp.get("/sandbox/media/<media_id>")
def pic_url(media_id: str) -> Response:
    """What ``PicUrl`` points at (mmbiz.qpic.cn in production: no access token needed)."""
    try:
        media = store().get(media_id, current().state.clock.now())
    except ApiError:
        raise SandboxError("no such picture", status=404) from None
    return _file(media)


def _file(media: Media) -> Response:
    response = Response(media.data, mimetype=media.content_type)
    response.headers["Content-disposition"] = f'attachment; filename="{media.filename}"'
    return response

