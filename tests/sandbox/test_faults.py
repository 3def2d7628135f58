"""Injected faults and rate limits, as the app's error handling will meet them."""

from __future__ import annotations

import time

import pytest
from wechatpy.exceptions import APILimitedException, WeChatClientException

from tests.sandbox.conftest import SandboxEnv


def test_busy_fault_fails_the_next_call_only(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    env.client.set_fault("user/info", "busy")
    with pytest.raises(WeChatClientException) as raised:
        wechat.user.get(follower)
    assert raised.value.errcode == -1
    assert wechat.user.get(follower)["subscribe"] == 1


def test_quota_fault_is_45009(env: SandboxEnv, follower: str) -> None:
    env.client.set_fault("message/template/send", "quota", times=2)
    wechat = env.wechat()
    template_id = env.config.wechat.warning_template_id
    for _ in range(2):
        with pytest.raises(APILimitedException):
            wechat.message.send_template(follower, template_id, {})
    wechat.message.send_template(follower, template_id, {})


def test_http_fault_returns_the_status(env: SandboxEnv, follower: str) -> None:
    env.client.set_fault("*", "http", http_status=502)
    with pytest.raises(WeChatClientException) as raised:
        env.wechat().user.get(follower)
    assert raised.value.response.status_code == 502


def test_hang_fault_delays_then_succeeds(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    wechat.user.get(follower)
    env.client.set_fault("user/info", "hang", hang_ms=300)
    started = time.monotonic()
    assert wechat.user.get(follower)["subscribe"] == 1
    assert time.monotonic() - started >= 0.3


def test_rate_limit_refuses_calls_over_the_limit(env: SandboxEnv, follower: str) -> None:
    wechat = env.wechat()
    wechat.user.get(follower)
    env.client.set_rate_limit("user/info", per_s=2, errcode=45011)
    codes = []
    for _ in range(6):
        try:
            wechat.user.get(follower)
            codes.append(0)
        except WeChatClientException as exc:
            codes.append(exc.errcode)
    assert 45011 in codes and codes.count(0) >= 2


def test_reset_clears_faults_and_followers(env: SandboxEnv, follower: str) -> None:
    env.client.set_fault("*", "busy", times=5)
    env.client.reset()
    assert env.client.followers() == []
    assert env.wechat().tag.get() == []
