"""Pictures from the simulated phone: an image message with PicUrl and MediaId reaches the
webhook, and an unmodified wechatpy client downloads the same bytes through media/get, with
WeChat's 40007 for an unknown or expired media id."""

from __future__ import annotations

import re

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from sandbox.media import MEDIA_TTL_S
from tests.sandbox.conftest import SandboxEnv

PNG = b"\x89PNG\r\n\x1a\n" + b"picture bytes as uploaded"


def test_a_picture_reaches_the_webhook_as_an_image_message(env: SandboxEnv,
                                                           follower: str) -> None:
    sent = env.client.send_image(follower, PNG)

    received = env.webhook.wait_for(lambda m: m.type == "image")
    assert received.is_safe
    assert received.message.source == follower
    assert received.message.media_id == sent["media_id"]
    assert received.message.image == sent["pic_url"]
    assert received.message.id == sent["msg_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", sent["media_id"])


def test_media_get_through_wechatpy_returns_the_uploaded_bytes_as_a_file(
        env: SandboxEnv, follower: str) -> None:
    media_id = env.client.send_image(follower, PNG)["media_id"]

    response = env.wechat().media.download(media_id)

    assert response.content == PNG
    assert response.headers["Content-Type"].startswith("image/png")
    assert f'filename="{media_id}.png"' in response.headers["Content-disposition"]


def test_an_unknown_media_id_is_refused_with_40007(env: SandboxEnv) -> None:
    with pytest.raises(WeChatClientException) as raised:
        env.wechat().media.download("no-such-media-id")
    assert raised.value.errcode == 40007


def test_media_expires_after_three_days(env: SandboxEnv, follower: str) -> None:
    media_id = env.client.send_image(follower, PNG)["media_id"]
    env.client.advance_clock(MEDIA_TTL_S)

    with pytest.raises(WeChatClientException) as raised:
        env.wechat().media.download(media_id)
    assert raised.value.errcode == 40007


def test_pic_url_serves_the_picture_without_a_token(env: SandboxEnv, follower: str) -> None:
    pic_url = env.client.send_image(follower, PNG)["pic_url"]

    assert requests.get(pic_url, timeout=5).content == PNG


def test_the_picture_shows_in_the_citizens_chat(env: SandboxEnv, follower: str) -> None:
    sent = env.client.send_image(follower, PNG)

    chat = env.client.messages(follower, kind="citizen")
    assert chat[-1]["payload"] == {"msgtype": "image", "pic_url": sent["pic_url"],
                                   "media_id": sent["media_id"]}


def test_media_get_counts_calls_and_obeys_injected_faults(env: SandboxEnv,
                                                          follower: str) -> None:
    media_id = env.client.send_image(follower, PNG)["media_id"]
    env.client.set_fault("media/get", "busy")

    with pytest.raises(WeChatClientException) as raised:
        env.wechat().media.download(media_id)
    assert raised.value.errcode == -1
    assert env.wechat().media.download(media_id).content == PNG
