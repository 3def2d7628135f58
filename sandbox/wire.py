"""WeChat's callback wire format: the XML the platform POSTs, its signatures, safe-mode AES,
and reading the XML the webhook answers with.

https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from sandbox.state import Interaction


class InvalidReply(ValueError):
    """The webhook answered with something WeChat would not show (citizen sees an error)."""


def gh_id(app_id: str) -> str:
    """A stable original id (``gh_`` + 12 hex) for the simulated account."""
    return "gh_" + hashlib.sha1(app_id.encode()).hexdigest()[:12]


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(fields: dict[str, Any]) -> str:
    """``<xml>`` with strings in CDATA and numbers bare, as WeChat writes it; a dict value nests,
    a list value repeats its tag (``ResultList`` → ``item``,
    ``SubscribeMsgPopupEvent`` → ``List``)."""
    parts = ["<xml>"]
    _elements(fields, parts)
    parts.append("</xml>")
    return "".join(parts)


def _elements(fields: dict[str, Any], parts: list[str]) -> None:
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"<{name}>")
            if isinstance(item, dict):
                _elements(item, parts)
            else:
                parts.append(str(item) if isinstance(item, int) else _cdata(str(item)))
            parts.append(f"</{name}>")


def interaction_xml(account: str, interaction: Interaction) -> str:
    fields: dict[str, Any] = {"ToUserName": account, "FromUserName": interaction.openid,
                              "CreateTime": interaction.create_time}
    if interaction.event is None:
        fields.update(MsgType="text", Content=interaction.content or "",
                      MsgId=interaction.msg_id or 0)
    else:
        fields.update(MsgType="event", Event=interaction.event,
                      EventKey=interaction.event_key or "")
        if interaction.ticket:
            fields["Ticket"] = interaction.ticket
        fields.update(interaction.extra)
    return to_xml(fields)


def job_finish_xml(account: str, openid: str, create_time: int, event: str, msg_id: int,
                   **counts: Any) -> str:
    """TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH; the id field is spelled ``MsgID`` there, and
    it is the only safe dedup key (several can share FromUserName + CreateTime)."""
    return to_xml({"ToUserName": account, "FromUserName": openid,
                   "CreateTime": create_time, "MsgType": "event", "Event": event,
                   "MsgID": msg_id, **counts})


def mass_finish_xml(account: str, openid: str, create_time: int, msg_id: int, *,
                    total_count: int, filter_count: int, sent_count: int, error_count: int,
                    article_urls: list[str]) -> str:
    """MASSSENDJOBFINISH as WeChat sends it, with the originality check and article URLs nested
    ("群发结果" and "原创校验",
    https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html;
    a real capture: tests/fixtures/wechat/event_masssendjobfinish_community_capture.xml). A send
    without articles still carries both blocks, with an empty ResultList."""
    checks = [{"ArticleIdx": i, "UserDeclareState": 0, "AuditState": 0, "OriginalArticleUrl": "",
               "OriginalArticleType": 0, "CanReprint": 0, "NeedReplaceContent": 0,
               "NeedShowReprintSource": 0} for i in range(1, len(article_urls) + 1)]
    urls = [{"ArticleIdx": i, "ArticleUrl": url} for i, url in enumerate(article_urls, 1)]
    return to_xml({
        "ToUserName": account, "FromUserName": openid, "CreateTime": create_time,
        "MsgType": "event", "Event": "MASSSENDJOBFINISH", "MsgID": msg_id,
        "Status": "send success", "TotalCount": total_count, "FilterCount": filter_count,
        "SentCount": sent_count, "ErrorCount": error_count,
        # CheckState 1: not judged a reprint, may be sent.
        "CopyrightCheckResult": {"Count": len(checks),
                                 "ResultList": {"item": checks} if checks else "",
                                 "CheckState": 1},
        "ArticleUrlResult": {"Count": len(urls), "ResultList": {"item": urls} if urls else ""},
    })


def signature(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


@dataclass(frozen=True)
class Envelope:
    """How the account's webhook is addressed: ``plain`` (plaintext), ``compat`` (plaintext
    fields and ``<Encrypt>`` side by side) or ``safe`` (``<Encrypt>`` only), the last two with
    ``encrypt_type=aes`` and a ``msg_signature`` over the ciphertext."""

    account: str
    token: str
    app_id: str
    encoding_aes_key: str
    mode: str

    @property
    def is_safe(self) -> bool:
        """Callbacks are encrypted (compat or safe mode)."""
        return self.mode != "plain"

    def _crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.encoding_aes_key, self.app_id)

    def seal(self, xml: str, openid: str) -> tuple[dict[str, str], bytes]:
        """Query parameters and body for one POST to the webhook."""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        params = {"signature": signature(self.token, timestamp, nonce),
                  "timestamp": timestamp, "nonce": nonce, "openid": openid}
        if not self.is_safe:
            return params, xml.encode("utf-8")
        sealed = xmltodict.parse(self._crypto().encrypt_message(xml, nonce, timestamp))["xml"]
        params.update(encrypt_type="aes", msg_signature=sealed["MsgSignature"])
        if self.mode == "compat":
            encrypted = f"<Encrypt>{_cdata(sealed['Encrypt'])}</Encrypt>"
            body = xml[: xml.rindex("</xml>")] + encrypted + "</xml>"
        else:
            body = to_xml({"ToUserName": self.account, "Encrypt": sealed["Encrypt"]})
        return params, body.encode("utf-8")

    def open_reply(self, body: bytes, openid: str) -> dict[str, Any] | None:
        """The passive reply as a chat payload, None for ``success``/empty (nothing shown)."""
        text = body.decode("utf-8", "replace").strip()
        if text in ("", "success"):
            return None
        try:
            fields = xmltodict.parse(text).get("xml") or {}
        except Exception as exc:  # any parse failure is what WeChat treats as a bad reply
            raise InvalidReply(f"reply is not XML: {text[:80]!r}") from exc
        if "Encrypt" in fields:
            if not self.is_safe:
                raise InvalidReply("encrypted reply in plain mode")
            try:
                plain = self._crypto().decrypt_message(
                    text, fields.get("MsgSignature"), fields.get("TimeStamp"), fields.get("Nonce"))
            except (InvalidSignatureException, InvalidAppIdException) as exc:
                raise InvalidReply(f"reply does not decrypt: {exc!r}") from exc
            try:
                fields = xmltodict.parse(plain).get("xml") or {}
            except Exception as exc:  # broken XML inside the envelope: as bad as outside it
                raise InvalidReply(f"decrypted reply is not XML: {plain[:80]!r}") from exc
        return reply_payload(fields, openid)


def reply_payload(fields: dict[str, Any], openid: str) -> dict[str, Any]:
    """Normalise a passive reply; a reply addressed to someone else is refused like WeChat does."""
    if fields.get("ToUserName") != openid:
        raise InvalidReply(f"reply ToUserName {fields.get('ToUserName')!r} is not {openid!r}")
    msgtype = fields.get("MsgType")
    if msgtype == "text":
        return {"msgtype": "text", "content": fields.get("Content") or ""}
    if msgtype == "news":
        items = ((fields.get("Articles") or {}).get("item")) or []
        items = items if isinstance(items, list) else [items]
        return {"msgtype": "news", "articles": [
            {"title": i.get("Title"), "description": i.get("Description"),
             "picurl": i.get("PicUrl"), "url": i.get("Url")} for i in items]}
    if msgtype in ("image", "voice", "video", "music", "transfer_customer_service"):
        return {"msgtype": msgtype, "raw": fields}
    raise InvalidReply(f"unknown reply MsgType {msgtype!r}")


def operator_openid(app_id: str) -> str:
    """FromUserName of MASSSENDJOBFINISH: WeChat sends the operator's openid, not a follower's."""
    return "o" + hashlib.sha256(app_id.encode()).hexdigest()[:27]
