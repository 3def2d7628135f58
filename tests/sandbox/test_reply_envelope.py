"""What the simulated WeChat does with the webhook's passive replies."""

from __future__ import annotations

import time

import pytest
from wechatpy.crypto import WeChatCrypto

from sandbox.wire import Envelope, InvalidReply

TOKEN, AES_KEY, APP_ID = "tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx5e1d2c3b4a5f6e7d"


def test_an_encrypted_reply_whose_xml_is_broken_is_a_bad_reply_not_a_crash():
    # WeChat shows such a reply as "该公众号暂时无法提供服务"; the simulator must too.
    inner = ("<xml><ToUserName><![CDATA[o_me]]></ToUserName><MsgType><![CDATA[text]]>"
             "</MsgType><Content><![CDATA[请发送\x01号码]]></Content></xml>")
    body = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(inner, "nonce",
                                                                str(int(time.time())))
    envelope = Envelope("gh_demo", TOKEN, APP_ID, AES_KEY, "safe")

    with pytest.raises(InvalidReply):
        envelope.open_reply(body.encode("utf-8"), "o_me")
