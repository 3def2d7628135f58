"""Turning a webhook request into a trusted, parsed WeChat message (pure, no Flask, no Redis).

Order matters: authenticate (``signature`` over token/timestamp/nonce, always present) before
reading the body; in safe mode verify ``msg_signature`` over the ciphertext too — mixing the two
up is the classic safe-mode bug (wechatpy#739). Every XML layer is parsed with DTDs and entities
forbidden first (no XXE, no entity expansion), then handed to wechatpy's own parser.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Mapping

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
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
    if not hmac.compare_digest(signature_for(token, timestamp, nonce), signature):
        raise BadSignature("signature mismatch")


def ensure_safe_xml(body: bytes | str) -> None:
    """Refuse anything but one plain XML document with an <xml> root."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise BadMessage(f"refused XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    for child in root:
        if len(child):
            raise BadMessage(f"unexpected nested element in <{child.tag}>")


@dataclass(frozen=True)
class Inbound:
    message: Any
    encrypted: bool


def parse_inbound(body: bytes, args: Mapping[str, str], crypto: WeChatCrypto | None) -> Inbound:
    """Authenticated request body → wechatpy message. Raises BadSignature or BadMessage."""
    ensure_safe_xml(body)
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    xml: bytes | str = body
    if encrypted:
        if crypto is None:
            raise BadMessage("encrypted message but safe mode is not configured")
        msg_signature = args.get("msg_signature", "")
        if not msg_signature:
            raise BadSignature("missing msg_signature")
        try:
            xml = crypto.decrypt_message(body, msg_signature, args.get("timestamp", ""),
                                         args.get("nonce", ""))
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise BadSignature(type(exc).__name__) from None
        except Exception as exc:  # bad base64 / padding / missing <Encrypt>
            raise BadMessage(f"cannot decrypt: {type(exc).__name__}") from None
        ensure_safe_xml(xml)
    try:
        message = parse_message(xml)
    except Exception as exc:
        raise BadMessage(f"not a WeChat message: {type(exc).__name__}") from None
    if message is None or not getattr(message, "source", None):
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
