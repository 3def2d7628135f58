"""``SandboxClient``: drives simulated citizens and reads the simulator's inspection API over
HTTP. Used by tests, benchmarks and the demo; see docs/sandbox.md for the endpoints it wraps.
"""

from __future__ import annotations

import time
from typing import Any

import requests

DEFAULT_TIMEOUT_S = 20.0  # a webhook call may take 3 attempts x 5 s before the phone answers
POLL_INTERVAL_S = 0.02


class SandboxRequestError(RuntimeError):
    """The simulator refused a control or citizen request (bad input, unknown citizen...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class WebhookFailed(RuntimeError):
    """The app's webhook did not answer usably; the citizen saw "service unavailable"."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(f"webhook failed for {result.get('event')}: {result.get('error')}")
        self.result = result


class SandboxClient:
    """``strict`` (default) raises ``WebhookFailed`` when a citizen action's webhook call fails."""

    def __init__(self, base_url: str, strict: bool = True,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.strict = strict
        self.timeout_s = timeout_s
        self._http = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, self.base_url + path, timeout=self.timeout_s,
                                      **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxRequestError(response.status_code, message)
        return response.json()

    def _act(self, openid: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"sandbox/api/citizens/{openid}/{action}",
                                            json=body or {})
        if self.strict and not (result["delivered"] and result["error"] is None):
            raise WebhookFailed(result)
        return result

    @staticmethod
    def _reply(result: dict[str, Any]) -> dict[str, Any] | None:
        reply = result.get("reply")
        return reply["payload"] if reply else None

    # ---- citizens -----------------------------------------------------------------------

    def new_citizen(self, openid: str | None = None) -> str:
        body = {"openid": openid} if openid else {}
        citizen: dict[str, Any] = self._call("POST", "sandbox/api/citizens", json=body)
        return str(citizen["openid"])

    def citizen(self, openid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"sandbox/api/citizens/{openid}")
        return result

    def follow(self, openid: str, scene: str | int | None = None,
               ticket: str | None = None) -> dict[str, Any] | None:
        """Follow (``subscribe``), or with ``scene``/``ticket`` scan a code; returns the reply."""
        body: dict[str, Any] = {}
        if scene is not None:
            body["scene"] = str(scene)
        if ticket:
            body["ticket"] = ticket
        return self._reply(self._act(openid, "follow", body))

    def unfollow(self, openid: str) -> None:
        self._act(openid, "unfollow")

    def send_text(self, openid: str, text: str) -> dict[str, Any] | None:
        """Send a text message; returns the passive reply payload (None for ``success``)."""
        return self._reply(self._act(openid, "text", {"text": text}))

    def send_image(self, openid: str, data: bytes, filename: str = "screenshot.png",
                   content_type: str = "image/png") -> dict[str, Any]:
        """Send a picture (an image message with PicUrl and MediaId, see sandbox/media.py);
        returns the phone's result: ``reply`` (the passive reply entry), ``media_id``..."""
        response = self._http.post(self.base_url + f"sandbox/api/citizens/{openid}/image",
                                   files={"file": (filename, data, content_type)},
                                   timeout=self.timeout_s)
        if response.status_code >= 400:
            raise SandboxRequestError(response.status_code, response.text)
        result: dict[str, Any] = response.json()
        if self.strict and not (result["delivered"] and result["error"] is None):
            raise WebhookFailed(result)
        return result

    def click_menu(self, openid: str, key: str) -> dict[str, Any] | None:
        return self._reply(self._act(openid, "click", {"key": key}))

    def view_menu(self, openid: str, url: str) -> None:
        self._act(openid, "view", {"url": url})

    def claim_phone(self, openid: str, phone: str) -> None:
        """This citizen's phone now shows SMS sent to ``phone``."""
        self._call("POST", f"sandbox/api/citizens/{openid}/phone", json={"phone": phone})

    # ---- inspection ---------------------------------------------------------------------

    def messages(self, openid: str | None = None, kind: str | None = None,
                 since: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if openid:
            params["openid"] = openid
        if kind:
            params["kind"] = kind
        found: list[dict[str, Any]] = self._call("GET", "sandbox/api/messages",
                                                 params=params)["messages"]
        return found

    def wait_for_messages(self, openid: str | None, count: int, timeout_s: float = 5.0,
                          kind: str | None = None) -> list[dict[str, Any]]:
        """Poll until ``openid`` (or anyone, if None) has ``count`` messages; TimeoutError else."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.messages(openid, kind)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{len(found)} of {count} messages after {timeout_s} s")
            time.sleep(POLL_INTERVAL_S)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "sandbox/api/stats")
        return result

    def followers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "sandbox/api/followers")["followers"]
        return found

    def callbacks(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "sandbox/api/callbacks")["callbacks"]
        return found

    def account(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "sandbox/api/account")
        return result

    # ---- control ------------------------------------------------------------------------

    def set_fault(self, api: str = "*", fault: str = "busy", times: int = 1,
                  errcode: int | None = None, http_status: int = 503,
                  hang_ms: int = 0) -> None:
        """Next ``times`` calls to ``api`` (path under cgi-bin/, "sms", or "*") fail:
        ``busy`` (-1), ``quota`` (45009), ``errcode``, ``http`` (status), or ``hang``
        (``hang_ms``, then succeed)."""
        body: dict[str, Any] = {"api": api, "fault": fault, "times": times,
                                "http_status": http_status, "hang_ms": hang_ms}
        if errcode is not None:
            body["errcode"] = errcode
        self._call("POST", "sandbox/api/faults", json=body)

    def set_rate_limit(self, api: str, per_s: int, errcode: int = 45011) -> None:
        """At most ``per_s`` calls per second to ``api``; ``per_s=0`` removes the limit."""
        self._call("POST", "sandbox/api/faults",
                   json={"api": api, "rate_limit_per_s": per_s, "errcode": errcode})

    def clear_faults(self) -> None:
        self._call("DELETE", "sandbox/api/faults")

    def expire_token(self, mode: str = "expire") -> None:
        """``expire``: next API call gets 42001; ``invalidate``: 40001."""
        self._call("POST", "sandbox/api/tokens/expire", json={"mode": mode})

    def advance_clock(self, seconds: float) -> float:
        now: float = self._call("POST", "sandbox/api/clock/advance",
                                json={"seconds": seconds})["now_s"]
        return now

    def register_template(self, template_id: str) -> None:
        self._call("POST", "sandbox/api/templates", json={"template_id": template_id})

    def send_sms(self, phone: str, text: str) -> None:
        """What the app's SMS gateway adapter does (handy in tests)."""
        self._call("POST", "sandbox/sms/send", json={"phone": phone, "text": text})

    def reset(self) -> None:
        self._call("POST", "sandbox/api/reset")
