"""SMS gateways: one interface, two adapters chosen by ``sms.provider``.

- ``sandbox``: the local simulator's stand-in (``POST <sandbox>/sandbox/sms/send`` with JSON
  ``{phone, text}``; docs/sandbox.md). The text shows on the simulated phone. Demo mode only.
- ``http``: a generic signed-JSON HTTP SMS API, the shape most Chinese SMS providers (or an
  in-house relay in front of them) offer: ``POST sms.http_url`` with JSON
  ``{"phone", "text", "sign_name"}`` and headers ``X-Key-Id``, ``X-Timestamp`` (unix s),
  ``X-Nonce`` and ``X-Signature`` = hex HMAC-SHA256(``sms.http_secret``,
  ``"<timestamp>\\n<nonce>\\n<body>"``). Any 2xx whose JSON ``code`` is absent, 0, "0" or "OK"
  is success; everything else raises ``SmsError``.

Phone numbers and texts (which carry one-time codes) are never logged here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import requests

from config import Config


class SmsError(Exception):
    """The gateway did not accept the message (network, timeout, refusal); safe to retry."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Send ``text`` to the mainland mobile ``phone``; raises ``SmsError`` on failure."""


def _post(session: requests.Session, url: str, body: bytes, headers: dict[str, str],
          timeout_s: float) -> requests.Response:
    try:
        response = session.post(url, data=body, headers=headers, timeout=timeout_s)
    except requests.Timeout:
        raise SmsError("sms gateway timed out") from None
    except requests.RequestException as exc:
        raise SmsError(f"sms gateway unreachable: {type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise SmsError(f"sms gateway answered HTTP {response.status_code}")
    return response


@dataclass
class SandboxSmsGateway:
    base_url: str
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        self._session = requests.Session()

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode("utf-8")
        _post(self._session, self.base_url.rstrip("/") + "/sandbox/sms/send", body,
              {"Content-Type": "application/json"}, self.timeout_s)


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The ``X-Signature`` of the http adapter (also what a provider-side check computes)."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass
class HttpSmsGateway:
    url: str
    key_id: str
    secret: str
    sign_name: str = ""
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        self._session = requests.Session()

    def send(self, phone: str, text: str) -> None:
        if not self.url:
            raise SmsError("sms.http_url is not configured")
        body = json.dumps({"phone": phone, "text": text, "sign_name": self.sign_name},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(8)
        headers = {"Content-Type": "application/json", "X-Key-Id": self.key_id,
                   "X-Timestamp": timestamp, "X-Nonce": nonce,
                   "X-Signature": sign(self.secret, timestamp, nonce, body)}
        response = _post(self._session, self.url, body, headers, self.timeout_s)
        try:
            answer = response.json()
        except ValueError:
            return
        code = answer.get("code", 0) if isinstance(answer, dict) else 0
        if code not in (0, "0", "OK", "ok"):
            raise SmsError(f"sms gateway refused the message: code {code!r}")


def make_sms_gateway(config: Config) -> SmsGateway:
    sms = config.sms
    if sms.provider == "sandbox":
        base = sms.sandbox_url or f"http://{config.sandbox.host}:{config.sandbox.port}/"
        return SandboxSmsGateway(base, sms.timeout_s)
    return HttpSmsGateway(sms.http_url, sms.http_key_id, sms.http_secret, sms.http_sign_name,
                          sms.timeout_s)
