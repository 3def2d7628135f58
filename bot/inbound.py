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
from dataclasses import dataclass
from typing import Any, Mapping

from xml.etree import ElementTree

from wechatpy.crypto import WeChatCrypto
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, UnknownMessage
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException


class BadSignature(Exception):
    """The request is not from WeChat (or not for this account)."""


class BadMessage(Exception):
    """Malformed, hostile or unparseable XML."""


def signature_for(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode("utf-8")).hexdigest()


def check_signature(token: str, args: Mapping[str, str]) -> None:
    signature = args.get("signature", "")
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    if not (signature and timestamp and nonce):
        raise BadSignature("missing signature, timestamp or nonce")
    # Bytes: compare_digest raises TypeError on a str with non-ASCII characters (a 500).
    if not hmac.compare_digest(signature_for(token, timestamp, nonce).encode(),
                               signature.encode("utf-8", "surrogatepass")):
        raise BadSignature("signature mismatch")


# Declarations are how XML attacks arrive (XXE, entity expansion); WeChat never sends any.
_DECLARATION = re.compile(r"<!(?!\[CDATA\[|--)")
_FOREIGN_ENCODING = re.compile(r"<\?xml[^>]*encoding\s*=\s*[\"'](?!utf-8[\"'])", re.IGNORECASE)


def parse_fields(body: bytes | str) -> dict[str, str]:
    """One flat ``<xml>`` document → {tag: text}. Refuses anything else, cheaply.

    With declarations refused up front, the standard parser has nothing to expand or fetch,
    so one fast parse replaces the several (defusedxml, then xmltodict in wechatpy) this would
    otherwise take on the webhook's hot path.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise BadMessage("body is not UTF-8") from None
    if _DECLARATION.search(text) or _FOREIGN_ENCODING.search(text):
        raise BadMessage("refused XML: declarations or a non-UTF-8 encoding")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise BadMessage(f"refused XML: {exc}") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            raise BadMessage(f"unexpected nested element in <{child.tag}>")
        fields[child.tag] = child.text or ""
    return fields


def to_message(fields: dict[str, str]) -> Any:
    """Fields → the wechatpy message or event class WeChat's type names select."""
    msg_type = fields.get("MsgType", "").lower()
    if not msg_type:
        raise BadMessage("message without MsgType")
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


def parse_inbound(body: bytes, args: Mapping[str, str], crypto: WeChatCrypto | None) -> Inbound:
    """Authenticated request body → wechatpy message. Raises BadSignature or BadMessage."""
    fields = parse_fields(body)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    if encrypted:
        if crypto is None:
            raise BadMessage("encrypted message but safe mode is not configured")
        msg_signature = args.get("msg_signature", "")
        if not msg_signature:
            raise BadSignature("missing msg_signature")
        if not fields.get("Encrypt"):
            raise BadMessage("encrypted message without <Encrypt>")
        try:
            # A dict envelope: wechatpy checks msg_signature over it without re-parsing.
            inner = crypto.decrypt_message({"Encrypt": fields["Encrypt"]}, msg_signature,
                                           args.get("timestamp", ""), args.get("nonce", ""))
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise BadSignature(type(exc).__name__) from None
        except Exception as exc:  # bad base64 / padding
            raise BadMessage(f"cannot decrypt: {type(exc).__name__}") from None
        fields = parse_fields(inner)
    message = to_message(fields)
    if not getattr(message, "source", None):
        raise BadMessage("message without FromUserName")
    return Inbound(message=message, encrypted=encrypted)


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
