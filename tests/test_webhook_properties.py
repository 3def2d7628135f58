"""Generated input against the webhook parser and the /wechat view (Hypothesis).

Invariants: the parser reads back what WeChat's renderer (the simulator's ``to_xml``) writes;
it refuses anything else with BadMessage only; the view never answers 5xx, whatever the query
string and body, signed or not, in any encryption mode.
"""

from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbound import MAX_DEPTH, BadMessage, parse_fields, signature_for
from sandbox.wire import to_xml
from tests import wx
from tests.conftest import make_config

FIXTURE_SETTINGS = settings(max_examples=60, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                   HealthCheck.too_slow])

TAGS = st.text(string.ascii_letters, min_size=1, max_size=12).filter(
    lambda t: not t.lower().startswith("xml"))
# XML 1.0 characters (not U+FFFE/U+FFFF); "\r" excluded: XML normalises line ends to "\n".
TEXT = st.lists(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                             exclude_characters="\ufffe\uffff")
               | st.sampled_from(["\n", "\t", "]]>", "<", "&", "诈骗", " "]),
               max_size=12).map("".join)


def nested(depth: int) -> st.SearchStrategy:
    if depth == 0:
        return TEXT
    child = nested(depth - 1)
    # A repeated tag reads back as a list, a single one as its value: lists of two or more.
    value = child | st.lists(child, min_size=2, max_size=3)
    return TEXT | st.dictionaries(TAGS, value, min_size=1, max_size=3)


DOCUMENTS = st.dictionaries(TAGS, nested(MAX_DEPTH - 1), min_size=1, max_size=4)
SMALL_DOCUMENTS = st.dictionaries(TAGS, nested(2), min_size=1, max_size=4)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=DOCUMENTS)
def test_parse_reads_back_what_wechats_renderer_writes(fields):
    assert parse_fields(to_xml(fields)) == fields


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-8")))
def test_parse_refuses_garbage_with_bad_message_only(body):
    with contextlib.suppress(BadMessage):
        parse_fields(body)


QUERY_VALUES = st.text(max_size=50) | st.sampled_from(
    ["", "签名", "é" * 40, "１７００００００００", "1e400", "-1", "0" * 40])
QUERIES = st.dictionaries(st.sampled_from(["signature", "timestamp", "nonce", "encrypt_type",
                                           "msg_signature", "echostr", "openid"]),
                          QUERY_VALUES, max_size=7)


@FIXTURE_SETTINGS
@given(query=QUERIES, body=st.binary(max_size=200))
def test_any_query_and_body_gets_a_4xx_or_2xx_never_a_5xx(client, query, body):
    assert client.post("/wechat", query_string=query, data=body).status_code < 500
    assert client.get("/wechat", query_string=query).status_code < 500


@pytest.fixture(params=["plain", "compat", "safe"])
def mode_client(request, redis, redis_url):
    from app import create_app

    config = make_config(redis_url, wechat={"encrypt_mode": request.param})
    return config, create_app(config, redis).test_client()


@FIXTURE_SETTINGS
@given(fields=SMALL_DOCUMENTS, encrypt=st.booleans(),
       encrypt_type=st.sampled_from(["aes", "AES", "raw"]))
def test_any_signed_document_gets_a_4xx_or_2xx_never_a_5xx(mode_client, fields, encrypt,
                                                           encrypt_type):
    config, client = mode_client
    query = wx.signed_query(config)
    xml = to_xml(fields)
    body = wx.seal(config, xml, query) if encrypt else xml
    if encrypt:
        query["encrypt_type"] = encrypt_type
    response = client.post("/wechat", query_string=query, data=body.encode("utf-8"))
    assert response.status_code < 500


MESSAGE_FIELDS = st.fixed_dictionaries({
    "ToUserName": TEXT, "FromUserName": TEXT.filter(bool), "CreateTime": TEXT,
    "MsgType": st.sampled_from(["text", "image", "voice", "video", "shortvideo", "location",
                                "link", "event", "TEXT", ""]),
    "Event": st.sampled_from(["subscribe", "SCAN", "CLICK", "VIEW", "LOCATION", "unsubscribe",
                              "MASSSENDJOBFINISH", "TEMPLATESENDJOBFINISH", "pic_weixin",
                              "scancode_push", "location_select", "subscribe_msg_popup_event"]),
    "EventKey": TEXT | st.just("qrscene_") | TEXT.map(lambda t: "qrscene_" + t),
    "Content": TEXT, "MsgId": TEXT, "MsgID": TEXT, "TotalCount": TEXT, "Status": TEXT,
    "PicUrl": TEXT, "Location_X": TEXT, "Scale": TEXT, "Latitude": TEXT,
}, optional={"SendPicsInfo": nested(3), "ScanCodeInfo": nested(2),
             "SendLocationInfo": nested(2), "CopyrightCheckResult": nested(3)})


@FIXTURE_SETTINGS
@given(fields=MESSAGE_FIELDS)
def test_any_signed_message_with_odd_field_values_is_never_a_5xx(client, config, fields):
    response = wx.post(client, config, to_xml(fields))
    assert response.status_code < 500


@FIXTURE_SETTINGS
@given(signature=st.text(min_size=1, max_size=60), nonce=st.text(min_size=1, max_size=20))
def test_a_non_ascii_or_wrong_signature_is_forbidden(client, config, signature, nonce):
    query = wx.signed_query(config) | {"nonce": nonce}
    if signature == signature_for(config.wechat.token, query["timestamp"], nonce):
        return
    query["signature"] = signature
    response = client.post("/wechat", query_string=query, data=wx.text_xml("o_user", "hi"))
    assert response.status_code == 403
