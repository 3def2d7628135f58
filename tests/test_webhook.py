"""The /wechat endpoint with real signed (and safe-mode encrypted) WeChat payloads."""

from __future__ import annotations

import pytest

from bot.registry import registry
from tests import wx
from tests.conftest import make_config


@pytest.fixture
def counting_menu_key():
    """A menu handler that counts its runs in Redis and answers with the count."""
    key = "TEST_COUNT"

    def count(msg, ctx):
        return f"count={ctx.redis.incr('test:count')}"

    registry.menu_routes[key] = count
    yield key
    del registry.menu_routes[key]


def test_server_verification_echoes_echostr(client, config):
    query = wx.signed_query(config) | {"echostr": "4627384712"}
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "4627384712"


def test_server_verification_with_wrong_signature_is_forbidden(client, config):
    query = wx.signed_query(config) | {"echostr": "1", "signature": "0" * 40}
    assert client.get("/wechat", query_string=query).status_code == 403


def test_post_without_signature_is_forbidden_and_stores_nothing(client, redis):
    response = client.post("/wechat", data=wx.text_xml("o_user", "hi"), content_type="text/xml")
    assert response.status_code == 403
    assert redis.dbsize() == 0


@pytest.mark.parametrize("encrypt", [False, True], ids=["plaintext", "safe-mode"])
def test_menu_click_is_answered_in_both_modes(client, config, counting_menu_key, encrypt):
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                       encrypt=encrypt)
    assert response.status_code == 200
    assert wx.reply_text(config, response) == "count=1"


def test_plain_mode_config_answers_plaintext(redis, redis_url, counting_menu_key):
    from app import create_app

    config = make_config(redis_url, wechat={"encrypt_mode": "plain"})
    client = create_app(config, redis).test_client()
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key))
    assert "<Encrypt>" not in response.get_data(as_text=True)
    assert wx.reply_text(config, response) == "count=1"


def test_wechat_retry_of_the_same_event_is_handled_once(client, config, redis,
                                                       counting_menu_key):
    xml = wx.event_xml("o_user", "CLICK", counting_menu_key, create_time=1_700_000_000)
    first = wx.post(client, config, xml)
    second = wx.post(client, config, xml)
    third = wx.post(client, config, xml)
    assert redis.get("test:count") == "1"
    assert wx.reply_text(config, first) == wx.reply_text(config, second) == "count=1"
    assert wx.reply_text(config, third) == "count=1"


def test_same_create_time_from_two_followers_is_two_events(client, config, redis,
                                                          counting_menu_key):
    wx.post(client, config, wx.event_xml("o_a", "CLICK", counting_menu_key, create_time=1))
    wx.post(client, config, wx.event_xml("o_b", "CLICK", counting_menu_key, create_time=1))
    assert redis.get("test:count") == "2"


def test_unknown_event_type_gets_success(client, config):
    response = wx.post(client, config, wx.event_xml("o_user", "SOME_NEW_EVENT"))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "success"


def test_unknown_message_type_gets_success(client, config):
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o_user</FromUserName>"
           "<CreateTime>1</CreateTime><MsgType>hologram</MsgType><MsgId>1</MsgId></xml>")
    response = wx.post(client, config, xml)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "success"


HOSTILE_BODIES = {
    "broken": "<xml><ToUserName>gh</ToUserName>",
    "not-xml": "{\"MsgType\": \"text\"}",
    "xxe": ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            "<xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1"
            "</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>9</MsgId></xml>"),
    "billion-laughs": ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
                       '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                       '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                       "<xml><FromUserName>o_x</FromUserName><MsgType>text</MsgType>"
                       "<Content>&c;</Content></xml>"),
    "wrong-root": "<html><FromUserName>o_x</FromUserName><MsgType>text</MsgType></html>",
    "no-msgtype": "<xml><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime></xml>",
    "no-sender": "<xml><MsgType>text</MsgType><Content>hi</Content><MsgId>3</MsgId></xml>",
    "xxe-parameter-entity": ('<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>'
                             "<xml><FromUserName>o_x</FromUserName><MsgType>text</MsgType></xml>"),
    "latin1-declared": ('<?xml version="1.0" encoding="ISO-8859-1"?><xml><FromUserName>o_x'
                        "</FromUserName><MsgType>text</MsgType><MsgId>5</MsgId></xml>"),
    "nested": ("<xml><FromUserName>o_x</FromUserName><MsgType><a>text</a></MsgType>"
               "<MsgId>4</MsgId></xml>"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("encrypt", [False, True], ids=["plaintext", "safe-mode"])
def test_hostile_xml_is_refused_and_stores_nothing(client, config, redis, name, encrypt):
    response = wx.post(client, config, HOSTILE_BODIES[name], encrypt=encrypt)
    assert response.status_code == 400
    assert redis.dbsize() == 0


def test_utf16_body_hiding_a_doctype_is_refused(client, config, redis):
    xml = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml [<!ENTITY a "aaaa">]>'
           "<xml><FromUserName>o_x</FromUserName><MsgType>text</MsgType><Content>&a;</Content>"
           "<MsgId>6</MsgId></xml>")
    query = wx.signed_query(config)
    response = client.post("/wechat", query_string=query, data=xml.encode("utf-16"),
                           content_type="text/xml")
    assert response.status_code == 400
    assert redis.dbsize() == 0


def test_oversized_body_is_refused(client, config, redis):
    xml = wx.text_xml("o_user", "诈" * 40_000)
    response = wx.post(client, config, xml, encrypt=False)
    assert response.status_code == 413
    assert redis.dbsize() == 0


def test_tampered_ciphertext_is_forbidden(client, config, redis, counting_menu_key):
    query = wx.signed_query(config)
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                          config.wechat.app_id)
    body = crypto.encrypt_message(wx.event_xml("o_user", "CLICK", counting_menu_key),
                                  query["nonce"], query["timestamp"])
    query |= {"encrypt_type": "aes", "msg_signature": "f" * 40}
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 403
    assert redis.get("test:count") is None


def test_message_encrypted_for_another_app_is_forbidden(client, config, redis,
                                                       counting_menu_key):
    from wechatpy.crypto import WeChatCrypto
    import xmltodict

    query = wx.signed_query(config)
    other = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key, "wx_other_app")
    body = other.encrypt_message(wx.event_xml("o_user", "CLICK", counting_menu_key),
                                 query["nonce"], query["timestamp"])
    query |= {"encrypt_type": "aes",
              "msg_signature": xmltodict.parse(body)["xml"]["MsgSignature"]}
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 403
    assert redis.get("test:count") is None


def test_failing_handler_releases_the_message_for_wechats_retry(client, config, redis):
    calls = []

    def flaky(msg, ctx):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("transient")
        return "ok"

    registry.menu_routes["TEST_FLAKY"] = flaky
    try:
        xml = wx.event_xml("o_user", "CLICK", "TEST_FLAKY", create_time=42)
        assert wx.post(client, config, xml).status_code == 500
        assert wx.reply_text(config, wx.post(client, config, xml)) == "ok"
    finally:
        del registry.menu_routes["TEST_FLAKY"]
