"""Access tokens: issue, expiry, supersession and wechatpy's automatic refresh."""

from __future__ import annotations

import pytest
import requests
from wechatpy.exceptions import WeChatClientException

from tests.sandbox.conftest import SandboxEnv


def _token(env: SandboxEnv, secret: str | None = None, appid: str | None = None) -> dict:
    wechat = env.config.wechat
    return requests.get(env.base_url + "cgi-bin/token", params={
        "grant_type": "client_credential", "appid": appid or wechat.app_id,
        "secret": secret or wechat.app_secret}, timeout=5).json()


def _menu_get(env: SandboxEnv, token: str) -> dict:
    return requests.get(env.base_url + "cgi-bin/menu/get", params={"access_token": token},
                        timeout=5).json()


def test_wechatpy_fetches_a_token_and_calls_an_api(env: SandboxEnv, follower: str) -> None:
    info = env.wechat().user.get(follower)
    assert info["subscribe"] == 1 and info["openid"] == follower
    assert env.client.stats()["tokens_issued"] == 1


def test_token_lasts_7200_seconds(env: SandboxEnv) -> None:
    result = _token(env)
    assert result["expires_in"] == 7200 and len(result["access_token"]) > 100


def test_wrong_secret_is_refused_with_40125(env: SandboxEnv) -> None:
    assert _token(env, secret="wrong")["errcode"] == 40125


def test_wrong_appid_is_refused_with_40013(env: SandboxEnv) -> None:
    assert _token(env, appid="wx0000000000000000")["errcode"] == 40013


def test_call_without_token_is_41001(env: SandboxEnv) -> None:
    response = requests.get(env.base_url + "cgi-bin/menu/get", timeout=5).json()
    assert response["errcode"] == 41001


def test_previous_token_works_for_five_minutes_after_a_new_one(env: SandboxEnv) -> None:
    first, second = _token(env)["access_token"], _token(env)["access_token"]
    assert _menu_get(env, first)["errcode"] == 46003  # token accepted; there is no menu
    env.client.advance_clock(301)
    assert _menu_get(env, first)["errcode"] == 40001
    assert _menu_get(env, second)["errcode"] == 46003


def test_token_expires_after_its_lifetime(env: SandboxEnv) -> None:
    token = _token(env)["access_token"]
    env.client.advance_clock(7201)
    assert _menu_get(env, token)["errcode"] == 42001


@pytest.mark.parametrize("mode", ["expire", "invalidate"])
def test_wechatpy_refreshes_a_forced_out_token_and_retries(env: SandboxEnv, follower: str,
                                                           mode: str) -> None:
    wechat = env.wechat()
    wechat.user.get(follower)
    env.client.expire_token(mode)
    assert wechat.user.get(follower)["openid"] == follower
    stats = env.client.stats()
    assert stats["tokens_issued"] == 2 and stats["api_calls"]["user/info"] == 3


def test_wechatpy_surfaces_a_bad_secret(env: SandboxEnv) -> None:
    wechat = env.wechat()
    wechat.secret = "wrong"
    with pytest.raises(WeChatClientException) as raised:
        wechat.menu.get()
    assert raised.value.errcode == 40125


def test_stable_token_is_reused_until_force_refresh(env: SandboxEnv) -> None:
    wechat = env.config.wechat
    body = {"grant_type": "client_credential", "appid": wechat.app_id,
            "secret": wechat.app_secret}
    url = env.base_url + "cgi-bin/stable_token"
    first = requests.post(url, json=body, timeout=5).json()["access_token"]
    again = requests.post(url, json=body, timeout=5).json()["access_token"]
    forced = requests.post(url, json={**body, "force_refresh": True}, timeout=5).json()
    assert first == again != forced["access_token"]
