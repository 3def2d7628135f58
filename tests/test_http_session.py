"""The WeChat client's session applies the environment as requests does, read once per host."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from alerts.delivery import TRANSIENT, classify_failure
from bot.http_session import EnvironmentOnceSession
from tests.servers import free_port, serve_wsgi

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


# -- plain calls over real HTTP: what the server sees, proxies, and requests' exception types ------

def _echo(environ: dict, start_response: Any) -> list[bytes]:
    """Answers what it was sent; ``/slow`` answers after a second."""
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.0)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.dumps({
        "method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"], "body": environ["wsgi.input"].read(length).decode(),
        "host": environ.get("HTTP_HOST"), "content_type": environ.get("CONTENT_TYPE"),
        "user_agent": environ.get("HTTP_USER_AGENT"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Set-Cookie", "session=1; Path=/")])
    return [body]


@pytest.fixture
def echo_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server, url = serve_wsgi(_echo)
    yield url
    server.shutdown()


def test_a_plain_call_reaches_the_server_exactly_as_requests_sends_it(echo_url: str) -> None:
    call: dict[str, Any] = {"params": {"access_token": "t k", "n": "1"},
                            "data": '{"a":"中"}'.encode(),
                            "headers": {"Content-Type": "application/json"}, "timeout": 5}
    session, plain = EnvironmentOnceSession(), requests.Session()
    ours = session.request("post", echo_url + "cgi-bin/x", **call)
    theirs = plain.request("post", echo_url + "cgi-bin/x", **call)
    assert ours.status_code == theirs.status_code == 200
    assert ours.json() == theirs.json()
    assert ours.json()["query"] == "access_token=t+k&n=1"
    # The short path keeps no cookies (the WeChat API sets none a client must return).
    assert "session" in plain.cookies and not session.cookies


def test_a_plain_call_still_goes_through_an_environment_proxy(
        echo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", echo_url)
    # The name does not resolve: only the proxy (our echo server) can answer.
    answer = EnvironmentOnceSession().request("GET", "http://api.wechat.invalid/cgi-bin/token",
                                              timeout=5)
    assert answer.json()["host"] == "api.wechat.invalid"


def test_a_plain_call_that_times_out_raises_requests_read_timeout(echo_url: str) -> None:
    # alerts.delivery.classify_failure reads a read timeout as "outcome unknown".
    with pytest.raises(requests.ReadTimeout):
        EnvironmentOnceSession().request("POST", echo_url + "slow", data=b"{}", timeout=0.2)


def test_a_refused_plain_call_raises_the_connection_error_delivery_retries() -> None:
    with pytest.raises(requests.ConnectionError) as refused:
        EnvironmentOnceSession().request("POST", f"http://127.0.0.1:{free_port()}/x",
                                         data=b"{}", timeout=2)
    assert classify_failure(refused.value) == TRANSIENT
