"""Fixtures: the simulator and a tiny signed-webhook app, both on real sockets, and an
unmodified wechatpy client pointed at the simulator (as bot/wechat.py does in production)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, Response, abort, request
from wechatpy import WeChatClient, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from config import Config, load_config
from sandbox.client import SandboxClient
from sandbox.server import create_app
from tests.servers import serve_wsgi as _serve
from tests.waiting import DEFAULT_TIMEOUT_S, wait_until


class SandboxWeChatClient(WeChatClient):
    """wechatpy's client with its base URL and token endpoint moved to the simulator."""

    def __init__(self, api_base_url: str, appid: str, secret: str, **kwargs: Any) -> None:
        self.API_BASE_URL = api_base_url + "cgi-bin/"
        super().__init__(appid, secret, timeout=5, **kwargs)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret})


@dataclass
class Received:
    is_safe: bool
    args: dict[str, str]
    xml: str
    message: Any


class RecordingWebhook:
    """Verifies the signature, decrypts in safe mode, records, and answers text and follow
    events with a text reply (encrypted like the real app would)."""

    def __init__(self, config: Config) -> None:
        wechat = config.wechat
        self.token = wechat.token
        self.crypto = WeChatCrypto(wechat.token, wechat.encoding_aes_key, wechat.app_id)
        self.received: list[Received] = []
        self.rejected = 0
        self.fail_with: int | None = None
        self.lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("test_webhook")

        @app.post("/wechat")
        def wechat() -> Response | str:
            args = request.args
            try:
                check_signature(self.token, args["signature"], args["timestamp"], args["nonce"])
            except (KeyError, InvalidSignatureException):
                self.rejected += 1
                abort(403)
            is_safe = args.get("encrypt_type") == "aes"
            body = request.get_data()
            xml = (self.crypto.decrypt_message(body, args["msg_signature"], args["timestamp"],
                                               args["nonce"]) if is_safe else body.decode())
            message = parse_message(xml)
            with self.lock:
                self.received.append(Received(is_safe, dict(args), xml, message))
            if self.fail_with:
                abort(self.fail_with)
            content = self._reply_text(message)
            if content is None:
                return "success"
            reply = TextReply(message=message, content=content).render()
            if is_safe:
                return self.crypto.encrypt_message(reply, args["nonce"], args["timestamp"])
            return reply

        return app

    @staticmethod
    def _reply_text(message: Any) -> str | None:
        if message.type == "text":
            return "收到：" + message.content
        if message.type == "event" and message.event in ("subscribe", "subscribe_scan", "scan"):
            return "欢迎关注终结诈骗"
        if message.type == "event" and message.event == "click":
            return "菜单 " + message.key
        return None

    def wait_for(self, predicate: Callable[[Any], bool],
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> Received:
        def matching() -> Received | None:
            with self.lock:
                return next((i for i in self.received if predicate(i.message)), None)

        return wait_until(matching, timeout_s, "a matching callback", interval_s=0.01)



@dataclass
class SandboxEnv:
    config: Config
    base_url: str
    client: SandboxClient
    webhook: RecordingWebhook
    app: Flask

    def wechat(self, **kwargs: Any) -> SandboxWeChatClient:
        return SandboxWeChatClient(self.base_url, self.config.wechat.app_id,
                                   self.config.wechat.app_secret, **kwargs)


@pytest.fixture(params=["safe"])
def encrypt_mode(request: pytest.FixtureRequest) -> str:
    """Override with ``@pytest.mark.parametrize("encrypt_mode", [...], indirect=True)``."""
    return str(request.param)


@pytest.fixture
def env(encrypt_mode: str) -> Iterator[SandboxEnv]:
    config = load_config(demo=True).replace(wechat={"encrypt_mode": encrypt_mode},
                                            sandbox={"callback_delay_ms": 10})
    webhook = RecordingWebhook(config)
    hook_server, hook_url = _serve(webhook.app())
    app = create_app(config, webhook_url=hook_url + "wechat")
    server, base_url = _serve(app)
    yield SandboxEnv(config, base_url, SandboxClient(base_url), webhook, app)
    app.extensions["sandbox"].webhook.close()
    server.shutdown()
    hook_server.shutdown()


@pytest.fixture
def follower(env: SandboxEnv) -> str:
    openid = env.client.new_citizen()
    env.client.follow(openid)
    return openid
