"""Turning a webhook request into a trusted, parsed WeChat message (pure, no Flask, no Redis).

Order matters: authenticate (``signature`` over token/timestamp/nonce, always present) before
reading the body; in safe mode verify ``msg_signature`` over the ciphertext too — mixing the two
up is the classic safe-mode bug (wechatpy#739). Every XML layer must be one flat UTF-8 ``<xml>``
document with no declarations (no XXE, no entity expansion) before it is parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage


class BadSignature(Exception):
    """The request is not from WeChat (or not for this account), or is a replay of one."""


_MSG_ID = re.compile(r"[0-9]{1,20}")

class BadMessage(Exception):
    """Malformed, hostile or unparseable XML."""


# WeChat's three message encryption modes ("消息加解密说明",
# https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html):
# plain sends plaintext only; compat sends the plaintext fields and <Encrypt> side by side
# (encrypt_type=aes in the query); safe sends <Encrypt> only.
ENCRYPT_MODES = ("plain", "compat", "safe")

# Real events nest at most four levels below <xml> (MASSSENDJOBFINISH:
# CopyrightCheckResult/ResultList/item/ArticleIdx); one spare level, no more.
MAX_DEPTH = 5
# A mass send has at most 8 articles × 9 fields per list; anything near this is not WeChat.
MAX_ELEMENTS = 500


def signature_for(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def check_signature(token: str, args: Mapping[str, str], now_s: float, window_s: int) -> None:
    """``signature`` over token/timestamp/nonce, and a timestamp within ``window_s`` of now.

    The signature never covers the body, so a triple copied from an access log would be valid
    forever; the window bounds that to minutes (the nonce check in the webhook does the rest).
    """
    signature = args.get("signature", "")
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise BadSignature("missing signature, timestamp or nonce")
    # compare_digest refuses non-ASCII str with TypeError: compare bytes.
    if not hmac.compare_digest(signature_for(token, timestamp, nonce).encode(),
                               signature.encode("utf-8", "replace")):
        raise BadSignature("signature mismatch")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise BadSignature("timestamp is not a unix time")
    if abs(int(timestamp) - now_s) > window_s:
        raise BadSignature("timestamp outside the accepted window")


# Declarations are how XML attacks arrive (XXE, entity expansion) and a DTD can only sit in the
# prolog, before the root element; WeChat sends nothing there but an optional <?xml ...?>. So
# the prolog must be exactly that; text inside the message (a citizen may type "<!DOCTYPE")
# is CDATA and harmless, and an entity reference without a DTD is a parse error.
_PROLOG = re.compile(r"\ufeff?\s*(<\?xml\s[^>]*\?>)?\s*<xml[\s/>]")
_FOREIGN_ENCODING = re.compile(r"encoding\s*=\s*[\"'](?!utf-8[\"'])", re.IGNORECASE)

Fields = dict[str, Any]


def parse_fields(body: bytes | str) -> Fields:
    """One UTF-8 ``<xml>`` document → {tag: text or nested value}. Refuses anything else, cheaply.

    Nested elements become dicts and repeated child tags lists, the shape xmltodict gives and
    wechatpy's event classes read (``SendPicsInfo["PicList"]["item"]``), to ``MAX_DEPTH`` levels
    and ``MAX_ELEMENTS`` elements. A repeated top-level field is refused: WeChat never sends
    one, and two ``FromUserName`` would leave it to chance which one a handler reads.
    With the prolog checked up front, the standard parser has nothing to expand or fetch,
    so one fast parse replaces the several (defusedxml, then xmltodict in wechatpy) this would
    otherwise take on the webhook's hot path.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise BadMessage("body is not UTF-8") from None
    prolog = _PROLOG.match(text)
    if prolog is None:
        raise BadMessage("refused XML: anything but <?xml ...?> before the root <xml>")
    if prolog.group(1) and _FOREIGN_ENCODING.search(prolog.group(1)):
        raise BadMessage("refused XML: a non-UTF-8 encoding")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise BadMessage(f"refused XML: {exc}") from None
    except ValueError as exc:  # e.g. an encoding declaration in a str
        raise BadMessage(f"refused XML: {exc}") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    fields: Fields = {}
    count = 0
    for child in root:
        if child.tag in fields:
            raise BadMessage(f"repeated field <{child.tag}>")
        if len(child):
            count += sum(1 for _ in child.iter())
            if count > MAX_ELEMENTS:
                raise BadMessage("too many elements")
            fields[child.tag] = _nested(child, MAX_DEPTH - 1)
        else:
            count += 1
            fields[child.tag] = child.text or ""
    return fields


def _nested(element: ElementTree.Element, depth_left: int) -> Any:
    if not len(element):
        return element.text or ""
    if depth_left <= 0:
        raise BadMessage(f"elements nested too deep in <{element.tag}>")
    value: dict[str, Any] = {}
    for child in element:
        item = _nested(child, depth_left - 1)
        if child.tag not in value:
            value[child.tag] = item
        elif isinstance(value[child.tag], list):
            value[child.tag].append(item)
        else:
            value[child.tag] = [value[child.tag], item]
    return value


def to_message(fields: Fields) -> Any:
    """Fields → the wechatpy message or event class WeChat's type names select."""
    msg_type = fields.get("MsgType", "")
    if not isinstance(msg_type, str) or not msg_type:
        raise BadMessage("message without MsgType")
    msg_type = msg_type.lower()
    for name in ("FromUserName", "Event", "EventKey", "MsgId", "MsgID", "CreateTime"):
        if not isinstance(fields.get(name, ""), str):
            raise BadMessage(f"<{name}> must be text")
    for name in ("MsgId", "MsgID"):
        # WeChat's message and job ids are 64-bit numbers; the job-finish handlers read them
        # as int (ASCII digits only: int() would also take "１２").
        value = fields.get(name)
        if value is not None and not _MSG_ID.fullmatch(value):
            raise BadMessage(f"<{name}> must be a number")
    if msg_type != "event":
        return MESSAGE_TYPES.get(msg_type, UnknownMessage)(fields)
    event = fields.get("Event", "").lower()
    key = fields.get("EventKey") or ""
    if event == "subscribe" and key.startswith("qrscene_"):
        # Following by scanning a parametric QR code: WeChat prefixes the scene.
        event = "subscribe_scan"
        fields = {**fields, "Event": event, "EventKey": key[len("qrscene_"):]}
    return EVENT_TYPES.get(event, UnknownMessage)(fields)


@dataclass(frozen=True)
class Inbound:
    message: Any
    encrypted: bool
    # The message's own XML (decrypted in safe mode): what a replayed nonce is compared by.
    digest: str


def parse_inbound(body: bytes, args: Mapping[str, str], mode: str,
                  crypto: WeChatCrypto | None) -> Inbound:
    """Authenticated request body → wechatpy message. Raises BadSignature or BadMessage.

    ``mode`` is the account's setting: ``safe`` accepts only ``encrypt_type=aes`` posts (a
    plaintext post is authenticated by nothing but a query triple from any access log),
    ``compat`` either form, ``plain`` plaintext only.
    """
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if mode == "safe" and not encrypted:
        raise BadSignature("plaintext message in safe mode")
    if mode == "plain" and encrypted:
        raise BadMessage("encrypted message but the account is in plain mode")
    fields = parse_fields(body)
    inner: bytes | str = body
    if encrypted:
        assert crypto is not None, "compat and safe mode need the EncodingAESKey"
        msg_signature = args.get("msg_signature", "")
        if not msg_signature:
            raise BadSignature("missing msg_signature")
        encrypt = fields.get("Encrypt")
        if not encrypt or not isinstance(encrypt, str):
            raise BadMessage("encrypted message without <Encrypt>")
        try:
            # A dict envelope: wechatpy checks msg_signature over the ciphertext without
            # re-parsing, then the AppID at the end of the plaintext.
            inner = crypto.decrypt_message({"Encrypt": encrypt}, msg_signature,
                                           args.get("timestamp", ""), args.get("nonce", ""))
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise BadSignature(type(exc).__name__) from None
        except Exception as exc:  # noqa: BLE001 - wechatpy raises assorted errors on bad base64/padding/length
            raise BadMessage(f"cannot decrypt: {type(exc).__name__}") from None
        fields = parse_fields(inner)
    message = to_message(fields)
    if not getattr(message, "source", None):
        raise BadMessage("message without FromUserName")
    raw = inner if isinstance(inner, bytes) else inner.encode("utf-8", "surrogatepass")
    return Inbound(message=message, encrypted=encrypted,
                   digest=hashlib.sha1(raw).hexdigest())


def dedup_key(message: Any) -> str:
    """MsgId when present; events have none, so FromUserName+CreateTime+Event(+EventKey).

    MsgId alone has collided in peers' bots (WxJava#333), hence the sender in every key.
    """
    raw = message._data
    # Job-finish events (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH) carry their own "MsgID".
    msg_id = raw.get("MsgId") or raw.get("MsgID")
    if msg_id:
        return f"{message.source}:{msg_id}"
    return ":".join([message.source, str(raw.get("CreateTime", "")), str(raw.get("Event", "")),
                     str(raw.get("EventKey", "") or "")])
