"""The /wechat endpoint with real signed (and safe-mode encrypted) WeChat payloads."""

from __future__ import annotations

import time

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


def mode_app(redis, redis_url, mode):
    from app import create_app

    config = make_config(redis_url, wechat={"encrypt_mode": mode})
    return config, create_app(config, redis).test_client()


@pytest.mark.parametrize("mode, encrypt", [("plain", False), ("compat", False), ("compat", True),
                                           ("safe", True)])
def test_menu_click_is_answered_in_every_mode_and_form_it_accepts(redis, redis_url,
                                                                   counting_menu_key, mode,
                                                                   encrypt):
    config, client = mode_app(redis, redis_url, mode)
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                       encrypt=encrypt)
    assert response.status_code == 200
    assert ("<Encrypt>" in response.get_data(as_text=True)) == encrypt
    assert wx.reply_text(config, response) == "count=1"


def test_plain_mode_config_answers_plaintext(redis, redis_url, counting_menu_key):
    config, client = mode_app(redis, redis_url, "plain")
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key))
    assert "<Encrypt>" not in response.get_data(as_text=True)
    assert wx.reply_text(config, response) == "count=1"


def test_plaintext_post_in_safe_mode_is_forbidden_and_stores_nothing(client, config, redis,
                                                                     counting_menu_key):
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                       encrypt=False)
    assert response.status_code == 403
    assert redis.dbsize() == 0


def test_encrypted_post_in_plain_mode_is_refused(redis, redis_url, counting_menu_key):
    config, client = mode_app(redis, redis_url, "plain")
    query = wx.signed_query(config)
    body = wx.seal(make_config(redis_url), wx.event_xml("o_user", "CLICK", counting_menu_key),
                   query)
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 400
    assert redis.dbsize() == 0


def test_safe_mode_acts_on_the_encrypted_message_not_the_plaintext_beside_it(
        client, config, redis, counting_menu_key):
    query = wx.signed_query(config)
    body = wx.seal(config, wx.event_xml("o_user", "CLICK", counting_menu_key), query)
    forged = body.replace("<xml>", "<xml><FromUserName><![CDATA[o_victim]]></FromUserName>"
                                   "<Event><![CDATA[unsubscribe]]></Event>", 1)
    response = client.post("/wechat", query_string=query, data=forged, content_type="text/xml")
    assert wx.reply_text(config, response) == "count=1"


@pytest.mark.parametrize("skew_s", [-301, 301, -86_400 * 365])
def test_a_timestamp_outside_the_window_is_forbidden_and_stores_nothing(
        client, config, redis, counting_menu_key, skew_s):
    query = wx.signed_query(config, timestamp=int(time.time()) + skew_s)
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                       query=query)
    assert response.status_code == 403
    assert redis.dbsize() == 0


def test_a_timestamp_inside_a_configured_window_is_accepted(redis, redis_url, counting_menu_key):
    from app import create_app

    config = make_config(redis_url, wechat={"timestamp_window_s": 900})
    client = create_app(config, redis).test_client()
    query = wx.signed_query(config, timestamp=int(time.time()) - 600)
    response = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                       query=query)
    assert wx.reply_text(config, response) == "count=1"


def test_server_verification_with_a_stale_timestamp_is_forbidden(client, config):
    query = wx.signed_query(config, timestamp=int(time.time()) - 3600) | {"echostr": "1"}
    assert client.get("/wechat", query_string=query).status_code == 403


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_a_signed_nonce_reused_with_another_body_is_forbidden_and_stores_nothing(
        redis, redis_url, counting_menu_key, mode):
    config, client = mode_app(redis, redis_url, mode)
    query = wx.signed_query(config)
    first = wx.post(client, config, wx.event_xml("o_user", "CLICK", counting_menu_key),
                    query=query)
    assert wx.reply_text(config, first) == "count=1"
    keys_before = set(redis.keys("*"))
    forged = wx.text_xml("o_victim", "注销")
    response = wx.post(client, config, forged, query=query)
    assert response.status_code == 403
    assert set(redis.keys("*")) == keys_before
    assert redis.get("test:count") == "1"


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_an_identical_repeat_with_the_same_nonce_gets_the_first_answer(
        redis, redis_url, counting_menu_key, mode):
    config, client = mode_app(redis, redis_url, mode)
    query = wx.signed_query(config)
    xml = wx.event_xml("o_user", "CLICK", counting_menu_key)
    first = wx.post(client, config, xml, query=query)
    second = wx.post(client, config, xml, query=query)
    assert second.status_code == 200
    assert wx.reply_text(config, first) == wx.reply_text(config, second) == "count=1"


@pytest.mark.parametrize("field, value", [("signature", "签名" * 20), ("signature", "é"),
                                          ("timestamp", "１７００００００００"),
                                          ("timestamp", "abc"), ("timestamp", "1e400"),
                                          ("nonce", "随机数")])
def test_odd_characters_in_the_query_are_forbidden_not_a_crash(client, config, redis, field,
                                                               value):
    query = wx.signed_query(config) | {field: value}
    response = wx.post(client, config, wx.text_xml("o_user", "hi"), query=query)
    assert response.status_code == 403
    assert redis.dbsize() == 0


def test_a_non_ascii_timestamp_with_a_matching_signature_is_forbidden(client, config, redis):
    from bot.inbound import signature_for

    timestamp, nonce = "１７００００００００", "1"
    query = {"timestamp": timestamp, "nonce": nonce,
             "signature": signature_for(config.wechat.token, timestamp, nonce)}
    response = client.post("/wechat", query_string=query, data=wx.text_xml("o_user", "hi"))
    assert response.status_code == 403
    assert redis.dbsize() == 0


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
    "nested-msgtype": ("<xml><FromUserName>o_x</FromUserName><MsgType><a>text</a></MsgType>"
                       "<MsgId>4</MsgId></xml>"),
    "repeated-sender": ("<xml><FromUserName>o_x</FromUserName><FromUserName>o_y</FromUserName>"
                        "<MsgType>text</MsgType><Content>hi</Content><MsgId>8</MsgId></xml>"),
    "too-deep": ("<xml><FromUserName>o_x</FromUserName><MsgType>event</MsgType>"
                 "<Event>CLICK</Event><EventKey>k</EventKey>" + "<a>" * 7 + "x" + "</a>" * 7
                 + "</xml>"),
    "very-deep": ("<xml><FromUserName>o_x</FromUserName><MsgType>text</MsgType>"
                  + "<a>" * 2000 + "</a>" * 2000 + "</xml>"),
    # WeChat's MsgId/MsgID is a 64-bit number; the job-finish handlers read it as one.
    "mass-finish-msgid-not-a-number": (
        "<xml><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime><MsgType>event"
        "</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>abc</MsgID><Status>send success"
        "</Status><TotalCount>1</TotalCount></xml>"),
    "template-finish-msgid-not-a-number": (
        "<xml><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime><MsgType>event"
        "</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>１２</MsgID><Status>success"
        "</Status></xml>"),
    "text-msgid-not-a-number": ("<xml><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>"
                                "<MsgType>text</MsgType><Content>hi</Content><MsgId>nan</MsgId>"
                                "</xml>"),
    "too-many-elements": ("<xml><FromUserName>o_x</FromUserName><MsgType>event</MsgType>"
                          "<Event>CLICK</Event><List>" + "<item>1</item>" * 1000
                          + "</List></xml>"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_hostile_xml_is_refused_and_stores_nothing(redis, redis_url, name, mode):
    config, client = mode_app(redis, redis_url, mode)
    response = wx.post(client, config, HOSTILE_BODIES[name])
    assert response.status_code == 400
    assert redis.dbsize() == 0


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_plaintext_in_safe_mode_is_forbidden_and_stores_nothing(client, config, redis,
                                                                        name):
    response = wx.post(client, config, HOSTILE_BODIES[name], encrypt=False)
    assert response.status_code == 403
    assert redis.dbsize() == 0


@pytest.mark.parametrize("text", ["<!DOCTYPE html>", "<!ENTITY x>", "<!-- &amp; &xxe;", "<xml>"])
def test_a_citizen_typing_markup_is_answered_not_refused(client, config, text):
    response = wx.post(client, config, wx.text_xml("o_user", text))
    assert response.status_code == 200
    assert wx.reply_text(config, response)


@pytest.mark.parametrize("prolog", ["<!-- <xml --><!DOCTYPE xml [<!ENTITY a \"b\">]>",
                                    "<?xml version='1.0'?><!DOCTYPE xml>",
                                    "<?pi x?>", "junk"])
def test_anything_in_the_prolog_but_the_xml_declaration_is_refused(redis, redis_url, prolog):
    config, client = mode_app(redis, redis_url, "plain")
    response = wx.post(client, config, prolog + wx.text_xml("o_user", "hi"))
    assert response.status_code == 400
    assert redis.dbsize() == 0


def test_utf16_body_hiding_a_doctype_is_refused(redis, redis_url):
    xml = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE xml [<!ENTITY a "aaaa">]>'
           "<xml><FromUserName>o_x</FromUserName><MsgType>text</MsgType><Content>&a;</Content>"
           "<MsgId>6</MsgId></xml>")
    config, client = mode_app(redis, redis_url, "plain")
    query = wx.signed_query(config)
    response = client.post("/wechat", query_string=query, data=xml.encode("utf-16"),
                           content_type="text/xml")
    assert response.status_code == 400
    assert redis.dbsize() == 0


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_oversized_body_is_refused(redis, redis_url, mode):
    config, client = mode_app(redis, redis_url, mode)
    xml = wx.text_xml("o_user", "诈" * 40_000)
    response = wx.post(client, config, xml)
    assert response.status_code == 413
    assert redis.dbsize() == 0


def test_tampered_ciphertext_is_forbidden_and_stores_nothing(client, config, redis,
                                                            counting_menu_key):
    query = wx.signed_query(config)
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                          config.wechat.app_id)
    body = crypto.encrypt_message(wx.event_xml("o_user", "CLICK", counting_menu_key),
                                  query["nonce"], query["timestamp"])
    query |= {"encrypt_type": "aes", "msg_signature": "f" * 40}
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 403
    assert redis.dbsize() == 0


def test_message_encrypted_for_another_app_is_forbidden_and_stores_nothing(client, config, redis,
                                                                         counting_menu_key):
    import xmltodict
    from wechatpy.crypto import WeChatCrypto

    query = wx.signed_query(config)
    other = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key, "wx_other_app")
    body = other.encrypt_message(wx.event_xml("o_user", "CLICK", counting_menu_key),
                                 query["nonce"], query["timestamp"])
    query |= {"encrypt_type": "aes",
              "msg_signature": xmltodict.parse(body)["xml"]["MsgSignature"]}
    response = client.post("/wechat", query_string=query, data=body, content_type="text/xml")
    assert response.status_code == 403
    assert redis.dbsize() == 0


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
