"""SMS gateways: the simulator's and the signed-JSON HTTP adapter, behind one interface."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from flask import Flask, request

from config import EXAMPLE_CONFIG, ConfigError, load_config
from registration.sms import HttpSmsGateway, SmsError, make_sms_gateway, sign
from tests.servers import serve_wsgi


def test_sandbox_gateway_shows_the_text_on_the_simulated_phone(config, sbx):
    make_sms_gateway(config).send("13812345678", "验证码 123456")
    [message] = sbx.messages(kind="sms")
    assert message["payload"] == {"phone": "13812345678", "text": "验证码 123456"}


def test_sandbox_gateway_outage_raises_sms_error(config, sbx):
    sbx.set_fault(api="sms", fault="http", http_status=503)
    with pytest.raises(SmsError, match="503"):
        make_sms_gateway(config).send("13812345678", "x")


def provider_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The signature as docs/registration.md specifies it, written out here independently of
    registration.sms.sign: hex HMAC-SHA256(secret, "<timestamp>\\n<nonce>\\n" + body)."""
    return hmac.new(secret.encode(), f"{timestamp}\n{nonce}\n".encode() + body,
                    hashlib.sha256).hexdigest()


def test_sms_signature_matches_a_known_answer_vector():
    # Expected value from OpenSSL, not from our code:
    #   printf '1700000000\nnonce-0001\n' \
    #     '{"phone":"13812345678","text":"hi","sign_name":"终结诈骗"}' \
    #     | openssl dgst -sha256 -hmac provider-secret
    body = '{"phone":"13812345678","text":"hi","sign_name":"终结诈骗"}'.encode()
    expected = "aedd001fb3a05049123ac72b3bfce73b9d1f9b2021b48414b4cc2c0edcccbc5a"
    assert sign("provider-secret", "1700000000", "nonce-0001", body) == expected
    assert provider_signature("provider-secret", "1700000000", "nonce-0001", body) == expected


@pytest.fixture
def provider():
    """A stand-in HTTP SMS provider that checks our signature the way a provider would."""
    app = Flask("provider")
    seen: list[dict] = []
    answer = {"code": 0}

    @app.post("/send")
    def send():
        body = request.get_data()
        expected = provider_signature("provider-secret", request.headers["X-Timestamp"],
                                      request.headers["X-Nonce"], body)
        seen.append({"valid": expected == request.headers["X-Signature"],
                     "key_id": request.headers["X-Key-Id"], "body": json.loads(body)})
        return answer

    server, base = serve_wsgi(app)
    yield base + "send", seen, answer
    server.shutdown()


def test_http_gateway_sends_a_signed_json_request(provider):
    url, seen, _ = provider
    HttpSmsGateway(url, "key-1", "provider-secret", "终结诈骗").send("13812345678", "hi")
    assert seen == [{"valid": True, "key_id": "key-1",
                     "body": {"phone": "13812345678", "text": "hi", "sign_name": "终结诈骗"}}]


def test_http_gateway_refusal_code_raises_sms_error(provider):
    url, _, answer = provider
    answer["code"] = "isv.BUSINESS_LIMIT_CONTROL"
    with pytest.raises(SmsError, match="refused"):
        HttpSmsGateway(url, "key-1", "provider-secret").send("13812345678", "hi")


def test_http_gateway_unreachable_raises_sms_error():
    with pytest.raises(SmsError, match="unreachable"):
        HttpSmsGateway("http://127.0.0.1:9/send", "k", "s", timeout_s=1).send("1", "x")


def test_the_simulator_is_refused_as_sms_provider_outside_demo_mode():
    import dataclasses

    import config as config_module
    from tests.conftest import make_config

    demo = make_config(sms={"provider": "sandbox"})
    production = dataclasses.replace(
        demo, service=dataclasses.replace(demo.service, mode="production"))
    with pytest.raises(ConfigError, match=r"sms\.provider"):
        config_module._validate_sms(production)


def test_demo_environment_points_sms_at_the_simulator():
    from cli import demo_environment

    env = demo_environment(load_config(EXAMPLE_CONFIG, environ={}, demo=True))
    config = load_config(EXAMPLE_CONFIG, environ=env, demo=True)
    assert config.sms.provider == "sandbox"
    assert config.sms.sandbox_url.endswith(f":{config.sandbox.port}/")
