"""Build real WeChat webhook requests (signed, optionally safe-mode encrypted) for tests."""

from __future__ import annotations

import random
import string
import time
from typing import Any

from wechatpy.crypto import WeChatCrypto

from bot.inbound import signature_for
from config import Config

_counter = iter(range(10**9))


def text_xml(openid: str, content: str, msg_id: int | None = None,
             create_time: int | None = None) -> str:
    msg_id = msg_id if msg_id is not None else 7_000_000_000 + next(_counter)
    return (f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_xml(openid: str, event: str, key: str | None = None,
              create_time: int | None = None, **extra: str) -> str:
    parts = ["<ToUserName><![CDATA[gh_demo]]></ToUserName>",
             f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time()) + next(_counter)}</CreateTime>",
             "<MsgType><![CDATA[event]]></MsgType>", f"<Event><![CDATA[{event}]]></Event>"]
    if key is not None:
        parts.append(f"<EventKey><![CDATA[{key}]]></EventKey>")
    parts += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in extra.items()]
    return "<xml>" + "".join(parts) + "</xml>"


def signed_query(config: Config, openid: str = "", timestamp: int | None = None,
                 nonce: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or "".join(random.choices(string.digits, k=10))
    query = {"timestamp": stamp, "nonce": nonce,
             "signature": signature_for(config.wechat.token, stamp, nonce)}
    if openid:
        query["openid"] = openid
    return query


def seal(config: Config, xml: str, query: dict[str, str], *, app_id: str | None = None,
         compat: bool = False) -> str:
    """Encrypt ``xml`` as WeChat does (safe mode, or ``compat``: plaintext fields beside
    ``<Encrypt>``); adds ``encrypt_type`` and ``msg_signature`` to ``query``."""
    import xmltodict

    crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                          app_id or config.wechat.app_id)
    body = crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
    # encrypt_message returns the envelope WeChat sends, incl. MsgSignature.
    sealed = xmltodict.parse(body)["xml"]
    query["msg_signature"] = sealed["MsgSignature"]
    query["encrypt_type"] = "aes"
    if compat and "</xml>" in xml:
        encrypted = f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt>"
        return xml[: xml.rindex("</xml>")] + encrypted + "</xml>"
    return str(body)


def post(client: Any, config: Config, xml: str, *, encrypt: bool | None = None,
         openid: str = "", query: dict[str, str] | None = None) -> Any:
    """POST a message as WeChat would; encrypted unless the config says plain mode."""
    encrypt = config.wechat.encrypt_mode != "plain" if encrypt is None else encrypt
    query = dict(query) if query is not None else signed_query(config, openid)
    compat = config.wechat.encrypt_mode == "compat"
    body = seal(config, xml, query, compat=compat) if encrypt else xml
    return client.post("/wechat", query_string=query, data=body.encode("utf-8"),
                       content_type="text/xml")


def reply_text(config: Config, response: Any) -> str | None:
    """The text content of a passive reply (decrypted in safe mode), or None for 'success'."""
    body = response.get_data(as_text=True)
    if body in ("success", ""):
        return None
    import xmltodict

    data = xmltodict.parse(body)["xml"]
    if "Encrypt" in data:
        crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                              config.wechat.app_id)
        inner = crypto.decrypt_message(body, data["MsgSignature"], data["TimeStamp"],
                                       data["Nonce"])
        data = xmltodict.parse(inner)["xml"]
    return str(data.get("Content"))
