"""Talking to the bot as WeChat does (signed, safe-mode encrypted XML through /wechat), and
staff sessions for the review and content APIs."""

from __future__ import annotations

import itertools
import time

import pytest

from tests import wx
from tests.staff import sign_in

_ids = itertools.count(1)


def image_xml(openid: str, pic_url: str, media_id: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_demo]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[{pic_url}]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId>"
            f"<MsgId>{8_000_000_000 + next(_ids)}</MsgId></xml>")


class Phone:
    """One follower's side of the chat."""

    def __init__(self, client, config, openid: str = "o_citizen_1") -> None:
        self.client, self.config, self.openid = client, config, openid

    def _send(self, xml: str) -> str | None:
        response = wx.post(self.client, self.config, xml)
        assert response.status_code == 200, response.get_data(as_text=True)
        return wx.reply_text(self.config, response)

    def say(self, text: str) -> str:
        reply = self._send(wx.text_xml(self.openid, text))
        assert reply is not None
        return reply

    def click(self, key: str) -> str:
        reply = self._send(wx.event_xml(self.openid, "CLICK", key))
        assert reply is not None
        return reply

    def send_image(self, pic_url: str, media_id: str) -> str:
        reply = self._send(image_xml(self.openid, pic_url, media_id))
        assert reply is not None
        return reply


@pytest.fixture
def phone(client, config) -> Phone:
    return Phone(client, config)


@pytest.fixture
def library():
    from content.library import load_library

    return load_library()


def staff_client(app, role: str, username: str = "staff1"):
    """A test client with a logged-in staff session (and its CSRF token as a default header)."""
    return sign_in(app.test_client(), role, username=username)
