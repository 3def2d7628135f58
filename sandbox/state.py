"""The simulated Official Account: its followers, tokens, templates, QR codes, tags, menu and
mass sends, and the rules WeChat enforces on each API. Pure state, no HTTP: every public method
takes the state lock, reads the injected clock, and returns plain values or raises ``ApiError``
(a WeChat refusal) / ``SandboxError`` (a refused simulator-only request).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox import errors, keywords
from sandbox.clock import Clock, china_month
from sandbox.errors import ApiError, SandboxError
from sandbox.log import LogEntry, MessageLog
from sandbox.menu import validate_menu

# https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
TOKEN_TTL_S = 7200
TOKEN_OVERLAP_S = 300  # the previous token keeps working 5 minutes after a new one is issued
# https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
CUSTOM_WINDOW_S = 48 * 3600
CUSTOM_MAX_WITHOUT_ACTION = 20  # 45047 after 20 messages without a user action (community)
CUSTOM_MSGTYPES = frozenset({"text", "news", "link", "mpnews", "image", "voice", "video",
                             "music", "msgmenu", "miniprogrampage", "wxcard"})
# https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
QR_DEFAULT_EXPIRE_S = 30
QR_MAX_EXPIRE_S = 2_592_000
QR_MAX_PERMANENT = 100_000
QR_MAX_SCENE_STR = 64
QR_ACTIONS = frozenset({"QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"})
# https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
FIRST_TAG_ID = 100  # 0..2 are reserved system tags
MAX_TAGS = 100
MAX_TAG_NAME = 30
MAX_TAGS_PER_USER = 20
MAX_BATCH_TAGGING = 50
USER_PAGE_SIZE = 10_000
# https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
MASS_PER_FOLLOWER_PER_MONTH = 4
MASS_MIN_OPENIDS = 2
MASS_MAX_OPENIDS = 10_000
MASS_MSGTYPES = frozenset({"text", "mpnews", "news", "image", "voice", "mpvideo", "wxcard"})
CLIENTMSGID_TTL_S = 24 * 3600
CLIENTMSGID_MAX_BYTES = 64

_OPENID_CHARS = string.ascii_letters + string.digits + "_-"


def new_openid() -> str:
    """28 characters like real openids (wechatpy's preview API matches ``^[\\w\\-]{28}$``)."""
    return "o" + "".join(secrets.choice(_OPENID_CHARS) for _ in range(27))


def is_openid(value: str) -> bool:
    return len(value) == 28 and all(c in _OPENID_CHARS for c in value)


@dataclass
class Token:
    value: str
    kind: str  # "basic" (cgi-bin/token) or "stable" (cgi-bin/stable_token): isolated pools
    expires_at_s: float
    usable_until_s: float | None = None  # set when superseded or revoked


@dataclass
class Citizen:
    """A simulated WeChat user; follows the account or not."""

    openid: str
    is_following: bool = False
    subscribe_time: int = 0
    subscribe_scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    tag_ids: list[int] = field(default_factory=list)
    last_action_s: float | None = None
    custom_since_action: int = 0
    mass_by_month: dict[str, int] = field(default_factory=dict)
    phone: str | None = None

    def user_info(self) -> dict[str, Any]:
        """``user/info`` shape (no nickname/avatar since Dec 2021)."""
        if not self.is_following:
            return {"subscribe": 0, "openid": self.openid}
        return {"subscribe": 1, "openid": self.openid, "language": "zh_CN",
                "subscribe_time": self.subscribe_time, "remark": "", "groupid": 0,
                "tagid_list": list(self.tag_ids), "subscribe_scene": self.subscribe_scene,
                "qr_scene": self.qr_scene, "qr_scene_str": self.qr_scene_str}

    def to_json(self) -> dict[str, Any]:
        return {**self.user_info(), "subscribe": int(self.is_following), "phone": self.phone,
                "last_action_s": self.last_action_s,
                "custom_since_action": self.custom_since_action,
                "mass_by_month": dict(self.mass_by_month)}


@dataclass
class QrCode:
    ticket: str
    action_name: str
    scene_id: int | None
    scene_str: str | None
    expires_at_s: float | None  # None: permanent
    url: str

    @property
    def scene(self) -> str:
        return str(self.scene_id) if self.scene_id is not None else str(self.scene_str)


@dataclass(frozen=True)
class Interaction:
    """What a citizen action sends to the webhook; ``event`` None means a text message."""

    openid: str
    create_time: int
    event: str | None = None
    event_key: str | None = None
    ticket: str | None = None
    content: str | None = None
    msg_id: int | None = None
    # Nested blocks of menu events (ScanCodeInfo, SendPicsInfo, SendLocationInfo).
    extra: dict[str, Any] = field(default_factory=dict)


def menu_event_extra(kind: str, key: str) -> dict[str, Any]:
    """What WeChat nests in a menu event (自定义菜单事件推送,
    https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push_Events.html):
    the phone stands in for the camera, album and map with fixed sample values."""
    if kind.startswith("scancode_"):
        return {"ScanCodeInfo": {"ScanType": "qrcode", "ScanResult": f"sandbox-scan-{key}"}}
    if kind.startswith("pic_"):
        md5 = hashlib.md5(key.encode()).hexdigest()
        return {"SendPicsInfo": {"Count": 1, "PicList": {"item": [{"PicMd5Sum": md5}]}}}
    if kind == "location_select":
        return {"SendLocationInfo": {"Location_X": "23", "Location_Y": "113", "Scale": "15",
                                     "Label": "广州市海珠区客村艺苑路 106号",
                                     "Poiname": ""}}
    return {}


@dataclass(frozen=True)
class MassResult:
    msg_id: int
    msg_data_id: int
    total_count: int
    sent_count: int
    is_preview: bool
    # Articles of an mpnews send (one per media_id here): MASSSENDJOBFINISH reports each one's
    # copyright check and URL.
    article_count: int = 0

    @property
    def filter_count(self) -> int:
        # WeChat: FilterCount is "after filtering, the fans about to be sent to";
        # FilterCount = SentCount + ErrorCount. The 4-per-month cut lowers it below TotalCount.
        return self.sent_count


class SandboxState:
    """One Official Account and its simulated followers."""

    def __init__(self, app_id: str, app_secret: str, template_ids: Iterable[str] = (),
                 clock: Clock | None = None, max_messages: int = 100_000) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self._initial_templates = tuple(t for t in template_ids if t)
        self.clock = clock or Clock()
        self.log = MessageLog(max_messages=max_messages)
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything except the account's identity and pre-registered templates."""
        with self._lock:
            self.clock.reset()
            self.log.clear()
            self._tokens: dict[str, Token] = {}
            self._current_token: dict[str, str] = {}
            self.tokens_issued = 0
            self._citizens: dict[str, Citizen] = {}
            self._follow_order: dict[str, None] = {}  # insertion-ordered set for user/get paging
            self._phones: dict[str, str] = {}
            self._templates = set(self._initial_templates)
            self._qr_by_ticket: dict[str, QrCode] = {}
            self._permanent_qr: dict[str, str] = {}
            self._tags: dict[int, str] = {}
            self._next_tag_id = FIRST_TAG_ID
            self.menu: list[dict[str, Any]] | None = None
            self.menu_version = 0
            self._clientmsgids: dict[str, tuple[int, float]] = {}
            self._next_template_msgid = 3_000_000_000
            self._next_mass_msgid = 1_000_000_001
            self._next_incoming_msgid = 24_000_000_000_000_000
            self.api_calls: dict[str, int] = {}

    def count_call(self, api: str) -> None:
        with self._lock:
            self.api_calls[api] = self.api_calls.get(api, 0) + 1

    # ---- access tokens ------------------------------------------------------------------

    def _check_credentials(self, app_id: str | None, secret: str | None) -> None:
        if not app_id:
            raise ApiError(errors.MISSING_APPID, "missing appid")
        if app_id != self.app_id:
            raise ApiError(errors.INVALID_APPID, "invalid appid")
        if not secret:
            raise ApiError(errors.MISSING_SECRET, "missing secret")
        if secret != self._app_secret:
            raise ApiError(errors.INVALID_APPSECRET, "invalid appsecret")

    def _issue(self, kind: str, now: float) -> Token:
        for value in [v for v, t in self._tokens.items()
                      if t.usable_until_s is not None and t.usable_until_s <= now]:
            del self._tokens[value]
        previous = self._tokens.get(self._current_token.get(kind, ""))
        if previous is not None and previous.usable_until_s is None:
            previous.usable_until_s = now + TOKEN_OVERLAP_S
        token = Token(value="SBX_" + secrets.token_urlsafe(96), kind=kind,
                      expires_at_s=now + TOKEN_TTL_S)
        self._tokens[token.value] = token
        self._current_token[kind] = token.value
        self.tokens_issued += 1
        return token

    def issue_token(self, grant_type: str | None, app_id: str | None,
                    secret: str | None) -> dict[str, Any]:
        """``GET cgi-bin/token``: a new token each call; the previous one lives 5 more minutes."""
        with self._lock:
            if grant_type != "client_credential":
                raise ApiError(errors.INVALID_GRANT_TYPE, "invalid grant_type")
            self._check_credentials(app_id, secret)
            token = self._issue("basic", self.clock.now())
            return {"access_token": token.value, "expires_in": TOKEN_TTL_S}

    def issue_stable_token(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST cgi-bin/stable_token``: reuses the valid token unless ``force_refresh``.

        https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
        """
        with self._lock:
            if body.get("grant_type") != "client_credential":
                raise ApiError(errors.INVALID_GRANT_TYPE, "invalid grant_type")
            self._check_credentials(body.get("appid"), body.get("secret"))
            now = self.clock.now()
            current = self._tokens.get(self._current_token.get("stable", ""))
            if (current is None or body.get("force_refresh") or current.usable_until_s is not None
                    or current.expires_at_s - now < TOKEN_OVERLAP_S):
                current = self._issue("stable", now)
            return {"access_token": current.value,
                    "expires_in": int(current.expires_at_s - now)}

    def check_token(self, value: str | None) -> None:
        """41001 missing, 40001 unknown or superseded (after the overlap), 42001 expired."""
        if not value:
            raise ApiError(errors.MISSING_ACCESS_TOKEN, "access_token missing")
        with self._lock:
            token = self._tokens.get(value)
            now = self.clock.now()
            if token is None or (token.usable_until_s is not None and now >= token.usable_until_s):
                raise ApiError(errors.INVALID_CREDENTIAL,
                               "invalid credential, access_token is invalid or not latest")
            if now >= token.expires_at_s:
                raise ApiError(errors.EXPIRED_ACCESS_TOKEN, "access_token expired")

    def expire_tokens(self, mode: str = "expire") -> int:
        """Control API: ``expire`` makes every token answer 42001, ``invalidate`` 40001."""
        if mode not in ("expire", "invalidate"):
            raise SandboxError("mode must be 'expire' or 'invalidate'")
        with self._lock:
            now = self.clock.now()
            for token in self._tokens.values():
                if mode == "expire":
                    token.expires_at_s = min(token.expires_at_s, now)
                else:
                    token.usable_until_s = now
            return len(self._tokens)

    # ---- citizens -----------------------------------------------------------------------

    def create_citizen(self, openid: str | None = None) -> Citizen:
        with self._lock:
            openid = openid or new_openid()
            if not is_openid(openid):
                raise SandboxError("an openid is 28 characters of [A-Za-z0-9_-]")
            return self._citizens.setdefault(openid, Citizen(openid=openid))

    def citizen(self, openid: str) -> Citizen:
        with self._lock:
            found = self._citizens.get(openid)
            if found is None:
                raise SandboxError(f"unknown citizen {openid}", status=404)
            return found

    def citizens(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.to_json() for c in self._citizens.values()]

    def _follower(self, openid: Any) -> Citizen:
        """The citizen an API names; 40003 if the openid is unknown, 43004 if not following."""
        found = self._citizens.get(openid) if isinstance(openid, str) else None
        if found is None:
            raise ApiError(errors.INVALID_OPENID, "invalid openid")
        if not found.is_following:
            raise ApiError(errors.REQUIRE_SUBSCRIBE, "require subscribe")
        return found

    def _touch(self, citizen: Citizen, now: float) -> None:
        # Following, scanning, sending a message or clicking a menu opens the 48 h window
        # and resets the 45047 count (Service_Center_messages doc above).
        citizen.last_action_s = now
        citizen.custom_since_action = 0

    def _find_qr(self, ticket: str | None, scene: str | None, now: float) -> QrCode | None:
        if ticket:
            qr = self._qr_by_ticket.get(ticket)
            if qr is None or (qr.expires_at_s is not None and now >= qr.expires_at_s):
                raise SandboxError("this QR code does not exist or has expired", status=404)
            return qr
        if scene is None or scene == "":
            return None
        for qr in reversed(list(self._qr_by_ticket.values())):
            if qr.scene == str(scene) and (qr.expires_at_s is None or now < qr.expires_at_s):
                return qr
        # Scanning a code the account never made still yields a well-formed event.
        return self._create_qr_locked("QR_STR_SCENE", None, str(scene), 3600, "", now)

    def follow(self, openid: str, scene: str | None = None,
               ticket: str | None = None) -> Interaction:
        """Follow (``subscribe``), or scan a code while following (``SCAN``)."""
        with self._lock:
            citizen = self.citizen(openid)
            now = self.clock.now()
            qr = self._find_qr(ticket, scene, now)
            if citizen.is_following:
                if qr is None:
                    raise SandboxError("already following", status=409)
                self._touch(citizen, now)
                return Interaction(openid, int(now), "SCAN", qr.scene, qr.ticket)
            citizen.is_following = True
            citizen.subscribe_time = int(now)
            citizen.subscribe_scene = "ADD_SCENE_QR_CODE" if qr else "ADD_SCENE_OTHERS"
            citizen.qr_scene = (qr.scene_id or 0) if qr else 0
            citizen.qr_scene_str = (qr.scene_str or "") if qr else ""
            self._follow_order.pop(openid, None)
            self._follow_order[openid] = None
            self._touch(citizen, now)
            if qr is None:
                return Interaction(openid, int(now), "subscribe", "")
            return Interaction(openid, int(now), "subscribe", "qrscene_" + qr.scene, qr.ticket)

    def unfollow(self, openid: str) -> Interaction:
        with self._lock:
            citizen = self.citizen(openid)
            if not citizen.is_following:
                raise SandboxError("not following", status=409)
            citizen.is_following = False
            citizen.tag_ids.clear()
            self._follow_order.pop(openid, None)
            return Interaction(openid, int(self.clock.now()), "unsubscribe", "")

    def _acting_follower(self, openid: str) -> tuple[Citizen, float]:
        citizen = self.citizen(openid)
        if not citizen.is_following:
            raise SandboxError("follow the account first", status=409)
        now = self.clock.now()
        self._touch(citizen, now)
        return citizen, now

    def send_text(self, openid: str, text: str) -> Interaction:
        with self._lock:
            if not text:
                raise SandboxError("empty message")
            _, now = self._acting_follower(openid)
            self._next_incoming_msgid += 1
            self.log.add("citizen", openid, {"msgtype": "text", "content": text})
            return Interaction(openid, int(now), content=text, msg_id=self._next_incoming_msgid)

    def click(self, openid: str, key: str) -> Interaction:
        with self._lock:
            if not key:
                raise SandboxError("menu key required")
            _, now = self._acting_follower(openid)
            kind = self._button_type(key)
            self.log.add("citizen", openid, {"msgtype": "event", "event": kind, "key": key})
            return Interaction(openid, int(now), kind, key, extra=menu_event_extra(kind, key))

    def _button_type(self, key: str) -> str:
        """The event a keyed button sends: CLICK, or its own type (scancode_push, pic_weixin...)."""
        for button in self.menu or []:
            for leaf in button.get("sub_button") or [button]:
                if leaf.get("key") == key and leaf.get("type") != "click":
                    return str(leaf["type"])
        return "CLICK"

    def view(self, openid: str, url: str) -> Interaction:
        """A VIEW click is reported but does not open the 48 h window (doc above)."""
        with self._lock:
            citizen = self.citizen(openid)
            if not citizen.is_following:
                raise SandboxError("follow the account first", status=409)
            self.log.add("citizen", openid, {"msgtype": "event", "event": "VIEW", "url": url})
            return Interaction(openid, int(self.clock.now()), "VIEW", url)

    def send_media_message(self, openid: str, payload: dict[str, Any]) -> tuple[int, int]:
        """A non-text message (an image: sandbox/media.py) from a follower: logged in the chat,
        opens the 48 h window like any message; returns (CreateTime, MsgId) for its XML."""
        with self._lock:
            _, now = self._acting_follower(openid)
            self._next_incoming_msgid += 1
            self.log.add("citizen", openid, payload)
            return int(now), self._next_incoming_msgid

    def claim_phone(self, openid: str, phone: str) -> None:
        with self._lock:
            citizen = self.citizen(openid)
            # A SIM's number is ASCII digits, however the tester typed it ("１３８ 0013-8000").
            phone = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", phone[:40]))
            if not (phone.isascii() and phone.isdigit()) or not 5 <= len(phone) <= 15:
                raise SandboxError("phone must be 5..15 digits")
            old_owner = self._citizens.get(self._phones.get(phone, ""))
            if old_owner is not None:
                old_owner.phone = None
            self._phones[phone] = openid
            citizen.phone = phone
            self.log.give_sms_to(phone, openid)

    def record_reply(self, openid: str, payload: dict[str, Any]) -> LogEntry:
        with self._lock:
            return self.log.add("reply", openid, payload)

    def record_notice(self, openid: str, code: str, detail: str = "") -> None:
        with self._lock:
            self.log.add("notice", openid, {"code": code, "detail": detail})

    def record_sms(self, phone: str, text: str) -> LogEntry:
        with self._lock:
            if not phone or not text:
                raise SandboxError("phone and text required")
            return self.log.add("sms", self._phones.get(phone), {"phone": phone, "text": text},
                                dedup_on=[phone, text])

    # ---- users and tags -----------------------------------------------------------------

    def user_info(self, openid: str | None) -> dict[str, Any]:
        with self._lock:
            found = self._citizens.get(openid or "")
            if found is None:
                raise ApiError(errors.INVALID_OPENID, "invalid openid")
            return found.user_info()

    @staticmethod
    def _page(openids: list[str], next_openid: str | None) -> dict[str, Any]:
        start = 0
        if next_openid:
            try:
                start = openids.index(next_openid) + 1
            except ValueError:
                raise ApiError(errors.INVALID_OPENID, "invalid next_openid") from None
        page = openids[start:start + USER_PAGE_SIZE]
        if not page:
            return {"count": 0, "next_openid": ""}
        return {"count": len(page), "data": {"openid": page}, "next_openid": page[-1]}

    def followers_page(self, next_openid: str | None) -> dict[str, Any]:
        with self._lock:
            openids = list(self._follow_order)
            return {"total": len(openids), **self._page(openids, next_openid)}

    def create_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            name = (body.get("tag") or {}).get("name")
            if not isinstance(name, str) or not name:
                raise ApiError(errors.INVALID_ARGS, "invalid args: tag.name")
            if len(name) > MAX_TAG_NAME:
                raise ApiError(errors.TAG_NAME_TOO_LONG, "tag name too long")
            if name in self._tags.values():
                raise ApiError(errors.TAG_NAME_EXISTS, "tag name already exists")
            if len(self._tags) >= MAX_TAGS:
                raise ApiError(errors.TOO_MANY_TAGS, "too many tags")
            tag_id = self._next_tag_id
            self._next_tag_id += 1
            self._tags[tag_id] = name
            return {"tag": {"id": tag_id, "name": name}}

    def _tag_members(self, tag_id: int) -> list[str]:
        return [o for o in self._follow_order if tag_id in self._citizens[o].tag_ids]

    def tags(self) -> dict[str, Any]:
        with self._lock:
            return {"tags": [{"id": i, "name": n, "count": len(self._tag_members(i))}
                             for i, n in self._tags.items()]}

    def _tag_id(self, value: Any) -> int:
        try:
            tag_id = int(value)
        except (TypeError, ValueError):
            raise ApiError(errors.INVALID_TAG_ID, "invalid tagid") from None
        if tag_id not in self._tags:
            raise ApiError(errors.INVALID_TAG_ID, "invalid tagid")
        return tag_id

    def tag_members(self, body: dict[str, Any], add: bool) -> None:
        """``tags/members/batchtagging`` / ``batchuntagging``: 1..50 followers per call."""
        with self._lock:
            openids = body.get("openid_list")
            if not isinstance(openids, list) or not 1 <= len(openids) <= MAX_BATCH_TAGGING:
                raise ApiError(errors.INVALID_OPENID_LIST_SIZE_TAG, "invalid openid list size")
            tag_id = self._tag_id(body.get("tagid"))
            citizens = []
            for openid in openids:
                found = self._citizens.get(openid) if isinstance(openid, str) else None
                if found is None or not found.is_following:
                    raise ApiError(errors.INVALID_OPENID, "invalid openid")
                if add and tag_id not in found.tag_ids and len(found.tag_ids) >= MAX_TAGS_PER_USER:
                    raise ApiError(errors.USER_TAG_LIMIT, "user tag count exceeds limit")
                citizens.append(found)
            for found in citizens:
                if add and tag_id not in found.tag_ids:
                    found.tag_ids.append(tag_id)
                elif not add and tag_id in found.tag_ids:
                    found.tag_ids.remove(tag_id)

    def user_tags(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"tagid_list": list(self._follower(body.get("openid")).tag_ids)}

    def tag_users_page(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            tag_id = self._tag_id(body.get("tagid"))
            return self._page(self._tag_members(tag_id), body.get("next_openid"))

    # ---- menu ---------------------------------------------------------------------------

    def create_menu(self, body: Any) -> None:
        buttons = validate_menu(body)
        with self._lock:
            self.menu = buttons
            self.menu_version += 1

    def get_menu(self) -> dict[str, Any]:
        with self._lock:
            if self.menu is None:
                raise ApiError(errors.MENU_NOT_EXIST, "menu no exist")
            return {"menu": {"button": self.menu}}

    # ---- templates and customer-service messages ----------------------------------------

    def register_template(self, template_id: str) -> None:
        with self._lock:
            self._templates.add(template_id)

    def send_template(self, body: dict[str, Any]) -> LogEntry:
        """``message/template/send``: the recipient must follow; the id must be registered."""
        with self._lock:
            citizen = self._follower(body.get("touser"))
            template_id = body.get("template_id")
            if template_id not in self._templates:
                raise ApiError(errors.INVALID_TEMPLATE_ID, "invalid template_id")
            data = body.get("data")
            if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
                raise ApiError(errors.DATA_FORMAT_ERROR, "data format error")
            for keyword, field in data.items():
                why = keywords.refusal(keyword, field.get("value"))
                if why is not None:
                    # WeChat names the field: "argument invalid! data.thing1.value invalid".
                    raise ApiError(errors.ARGUMENT_INVALID,
                                   f"argument invalid! data.{keyword}.value invalid ({why})")
            self._next_template_msgid += 1
            payload = {"template_id": template_id, "data": data, "url": body.get("url"),
                       "miniprogram": body.get("miniprogram")}
            return self.log.add("template", citizen.openid, payload,
                                msgid=self._next_template_msgid,
                                dedup_on=[citizen.openid, template_id, data, body.get("url")])

    def send_custom(self, body: dict[str, Any]) -> LogEntry:
        """``message/custom/send``: only inside the 48 h window, at most 20 without an action."""
        with self._lock:
            citizen = self._follower(body.get("touser"))
            msgtype = body.get("msgtype")
            content = body.get(msgtype) if isinstance(msgtype, str) else None
            if msgtype not in CUSTOM_MSGTYPES or not isinstance(content, dict):
                raise ApiError(errors.INVALID_MESSAGE_TYPE, "invalid message type")
            if msgtype == "text" and not content.get("content"):
                raise ApiError(errors.EMPTY_CONTENT, "empty content")
            now = self.clock.now()
            if citizen.last_action_s is None or now - citizen.last_action_s > CUSTOM_WINDOW_S:
                raise ApiError(errors.RESPONSE_OUT_OF_TIME,
                               "response out of time limit or subscription is canceled")
            if citizen.custom_since_action >= CUSTOM_MAX_WITHOUT_ACTION:
                raise ApiError(errors.RESPONSE_COUNT_LIMIT, "out of response count limit")
            citizen.custom_since_action += 1
            payload = {"msgtype": msgtype, msgtype: content}
            return self.log.add("custom", citizen.openid, payload,
                                dedup_on=[citizen.openid, payload])

    # ---- QR codes -----------------------------------------------------------------------

    def _create_qr_locked(self, action: str, scene_id: int | None, scene_str: str | None,
                          expire_s: int | None, url_base: str, now: float) -> QrCode:
        ticket = "gQ" + secrets.token_urlsafe(36)
        code = secrets.token_urlsafe(16)
        qr = QrCode(ticket=ticket, action_name=action, scene_id=scene_id, scene_str=scene_str,
                    expires_at_s=None if expire_s is None else now + expire_s,
                    url=f"{url_base}sandbox/q/{code}")
        self._qr_by_ticket[ticket] = qr
        return qr

    def create_qr(self, body: dict[str, Any], url_base: str) -> dict[str, Any]:
        """``qrcode/create``; ``url_base`` is the simulator root the QR's url points into."""
        action = body.get("action_name")
        if action not in QR_ACTIONS:
            raise ApiError(errors.INVALID_ARGS, "invalid action_name")
        scene = ((body.get("action_info") or {}).get("scene") or {})
        permanent = action.startswith("QR_LIMIT")
        scene_id, scene_str = None, None
        if action.endswith("STR_SCENE"):
            scene_str = scene.get("scene_str")
            if not isinstance(scene_str, str) or not 1 <= len(scene_str) <= QR_MAX_SCENE_STR:
                raise ApiError(errors.INVALID_ARGS, "invalid scene_str: 1..64 characters")
        else:
            scene_id = scene.get("scene_id")
            top = 100_000 if permanent else 2**32 - 1
            if (not isinstance(scene_id, int) or isinstance(scene_id, bool)
                    or not 1 <= scene_id <= top):
                raise ApiError(errors.INVALID_ARGS, f"invalid scene_id: 1..{top}")
        expire_s = None
        if not permanent:
            expire_s = body.get("expire_seconds", QR_DEFAULT_EXPIRE_S)
            if not isinstance(expire_s, int) or expire_s <= 0:
                raise ApiError(errors.INVALID_ARGS, "invalid expire_seconds")
            expire_s = min(expire_s, QR_MAX_EXPIRE_S)
        with self._lock:
            now = self.clock.now()
            if permanent:
                # A permanent code is one per scene: asking again returns the same ticket.
                known = self._permanent_qr.get(str(scene_id if scene_id is not None else scene_str))
                if known is not None:
                    qr = self._qr_by_ticket[known]
                    return {"ticket": qr.ticket, "url": qr.url}
                if len(self._permanent_qr) >= QR_MAX_PERMANENT:
                    raise ApiError(errors.QR_COUNT_LIMIT, "qrcode count out of limit")
            qr = self._create_qr_locked(action, scene_id, scene_str, expire_s, url_base, now)
            if permanent:
                self._permanent_qr[qr.scene] = qr.ticket
                return {"ticket": qr.ticket, "url": qr.url}
            return {"ticket": qr.ticket, "expire_seconds": expire_s, "url": qr.url}

    def qr_for_ticket(self, ticket: str) -> QrCode | None:
        with self._lock:
            qr = self._qr_by_ticket.get(ticket)
            if qr is None or (qr.expires_at_s is not None and self.clock.now() >= qr.expires_at_s):
                return None
            return qr

    def qr_for_url_code(self, code: str) -> QrCode | None:
        with self._lock:
            for qr in self._qr_by_ticket.values():
                if qr.url.endswith("/q/" + code):
                    return self.qr_for_ticket(qr.ticket)
            return None

    # ---- mass sends ---------------------------------------------------------------------

    @staticmethod
    def _mass_content(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        msgtype = body.get("msgtype")
        content = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in MASS_MSGTYPES or not isinstance(content, dict):
            raise ApiError(errors.INVALID_MESSAGE_TYPE, "invalid message type")
        if msgtype == "text" and not content.get("content"):
            raise ApiError(errors.EMPTY_CONTENT, "empty content")
        return msgtype, content

    def _mass_targets(self, mode: str, body: dict[str, Any]) -> list[str]:
        if mode == "sendall":
            rule = body.get("filter") or {}
            if rule.get("is_to_all"):
                return list(self._follow_order)
            # wechatpy still names the field group_id; the current API calls it tag_id.
            return self._tag_members(self._tag_id(rule.get("tag_id", rule.get("group_id"))))
        touser = body.get("touser")
        if not isinstance(touser, list) or not MASS_MIN_OPENIDS <= len(touser) <= MASS_MAX_OPENIDS:
            raise ApiError(errors.INVALID_OPENID_LIST_SIZE,
                           "invalid openid list size, at least two openid, at most 10000")
        return list(dict.fromkeys(o for o in touser if isinstance(o, str)))

    def _claim_clientmsgid(self, mode: str, body: dict[str, Any], msgtype: str,
                           content: dict[str, Any], now: float) -> str:
        # "If clientmsgid is omitted, WeChat uses a digest of the audience and content": the
        # same broadcast to the same audience within 24 h is refused either way (45065).
        clientmsgid = body.get("clientmsgid")
        if clientmsgid is None:
            audience = body.get("filter") if mode == "sendall" else sorted(body.get("touser", []))
            digest = json.dumps([audience, msgtype, content], sort_keys=True, ensure_ascii=False)
            clientmsgid = "auto:" + hashlib.sha1(digest.encode("utf-8")).hexdigest()
        elif not isinstance(clientmsgid, str) or len(clientmsgid.encode()) > CLIENTMSGID_MAX_BYTES:
            raise ApiError(errors.CLIENTMSGID_TOO_LONG, "clientmsgid size out of limit")
        known = self._clientmsgids.get(clientmsgid)
        if known is not None and now - known[1] < CLIENTMSGID_TTL_S:
            raise ApiError(errors.CLIENTMSGID_EXISTS, "clientmsgid exist", msg_id=known[0])
        return clientmsgid

    def mass_send(self, mode: str, body: dict[str, Any]) -> MassResult:
        """``mass/sendall`` (mode "sendall"), ``mass/send`` ("send") or ``mass/preview``."""
        with self._lock:
            msgtype, content = self._mass_content(body)
            now = self.clock.now()
            self._next_mass_msgid += 1
            msg_id = self._next_mass_msgid
            payload = {"msgtype": msgtype, msgtype: content, "msg_id": msg_id}
            if mode == "preview":
                citizen = self._follower(body.get("touser"))
                self.log.add("mass", citizen.openid, {**payload, "preview": True}, msgid=msg_id)
                return MassResult(msg_id, 0, 1, 1, is_preview=True)
            targets = self._mass_targets(mode, body)
            clientmsgid = self._claim_clientmsgid(mode, body, msgtype, content, now)
            self._clientmsgids[clientmsgid] = (msg_id, now)
            month = china_month(now)
            sent = 0
            for openid in targets:
                target = self._citizens.get(openid)
                if target is None or not target.is_following:
                    continue
                if target.mass_by_month.get(month, 0) >= MASS_PER_FOLLOWER_PER_MONTH:
                    continue
                target.mass_by_month[month] = target.mass_by_month.get(month, 0) + 1
                self.log.add("mass", openid, payload, msgid=msg_id,
                             dedup_on=[openid, msgtype, content])
                sent += 1
            return MassResult(msg_id, msg_id + 2_000_000_000, len(targets), sent, is_preview=False,
                              article_count=1 if msgtype == "mpnews" else 0)

    # ---- inspection ---------------------------------------------------------------------

    def messages(self, openid: str | None, kinds: Iterable[str], since: int,
                 limit: int) -> list[dict[str, Any]]:
        with self._lock:
            return [e.to_json() for e in self.log.query(openid, kinds, since, limit)]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            following = sum(1 for c in self._citizens.values() if c.is_following)
            return {**self.log.stats(), "citizens": len(self._citizens),
                    "followers": following, "tokens_issued": self.tokens_issued,
                    "api_calls": dict(self.api_calls)}
