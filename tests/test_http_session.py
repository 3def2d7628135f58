"""The WeChat client's session applies the environment as requests does, read once per host."""

from __future__ import annotations

import pytest

from bot.http_session import EnvironmentOnceSession

URL = "https://api.example.test/cgi-bin/message/template/send?access_token=t"


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.test")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/police-ca.pem")


def test_environment_proxies_and_ca_bundle_apply_like_requests(proxy_env: None) -> None:
    settings = EnvironmentOnceSession().merge_environment_settings(URL, {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example.test:3128"
    assert settings["verify"] == "/etc/ssl/police-ca.pem"


def test_a_host_in_no_proxy_goes_direct(proxy_env: None) -> None:
    settings = EnvironmentOnceSession().merge_environment_settings(
        "https://internal.example.test/cgi-bin/token", {}, None, None, None)
    assert "https" not in settings["proxies"]


def test_what_a_call_passes_explicitly_wins_over_the_environment(proxy_env: None) -> None:
    session = EnvironmentOnceSession()
    settings = session.merge_environment_settings(
        URL, {"https": "http://other.example.test:8080"}, None, False, None)
    assert settings["proxies"]["https"] == "http://other.example.test:8080"
    assert settings["verify"] is False


def test_the_environment_is_read_once_per_host(proxy_env: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    session = EnvironmentOnceSession()
    session.merge_environment_settings(URL, {}, None, None, None)
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.example.test:1")
    settings = session.merge_environment_settings(URL, {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example.test:3128"
