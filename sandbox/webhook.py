"""Delivering callbacks to the app's webhook over HTTP, now (citizen actions, whose reply the
phone shows) or after a delay (job-finish events), with WeChat's retry behaviour.

WeChat gives the server 5 s, then drops the connection and retries, three attempts in all
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html).
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.keepalive import KeepAlive
from sandbox.wire import Envelope

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 5.0
ATTEMPTS = 3
CALLBACK_LOG_SIZE = 1000
EVENT_SENDERS = 8


@dataclass
class Delivery:
    """The outcome of one callback (all attempts); ``body`` is the last response body."""

    url: str
    openid: str
    event: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None
    elapsed_ms: int
    body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body[:200].decode("utf-8", "replace")
        return data


class Webhook:
    """Posts signed (and in safe mode encrypted) XML to ``url``; keeps a log of deliveries."""

    def __init__(self, url: str, envelope: Envelope, timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self.url = url
        self.envelope = envelope
        self.timeout_s = timeout_s
        self._http = KeepAlive(timeout_s)
        self._log: deque[Delivery] = deque(maxlen=CALLBACK_LOG_SIZE)
        self._log_lock = threading.Lock()
        self._pending: list[tuple[float, int, int, str, str, str]] = []
        self._order = itertools.count()
        self._generation = 0
        self._wake = threading.Condition()
        self._senders: list[threading.Thread] = []
        self._leader_waiting = False
        self._closed = False

    def _post(self, params: dict[str, str], body: bytes) -> tuple[int, bytes]:
        separator = "&" if "?" in self.url else "?"
        return self._http.post(self.url + separator + urlencode(params), body,
                               {"Content-Type": "text/xml; charset=utf-8"})

    def deliver(self, xml: str, openid: str, event: str) -> Delivery:
        """POST now, retrying like WeChat; returns once a 2xx arrives or attempts run out."""
        params, body = self.envelope.seal(xml, openid)
        started = time.monotonic()
        status, error, content = None, None, b""
        attempt = 0
        for attempt in range(1, ATTEMPTS + 1):  # noqa: B007 - read after the loop: attempts made
            try:
                status, content = self._post(params, body)
                if 200 <= status < 300:
                    error = None
                    break
                error = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
        delivery = Delivery(self.url, openid, event, error is None, attempt, status, error,
                            int((time.monotonic() - started) * 1000), content)
        with self._log_lock:
            self._log.append(delivery)
        if error is not None:
            log.warning("webhook %s for %s failed after %d attempts: %s",
                        event, openid[:8], attempt, error)
        return delivery

    def schedule(self, delay_s: float, xml: str, openid: str, event: str) -> None:
        """Deliver later from a background thread (job-finish events)."""
        with self._wake:
            if self._closed:
                return
            if not self._senders:
                self._senders = [threading.Thread(target=self._run, name=f"sbx-cb-{n}",
                                                  daemon=True) for n in range(EVENT_SENDERS)]
                for sender in self._senders:
                    sender.start()
            entry = (time.monotonic() + delay_s, next(self._order), self._generation, xml,
                     openid, event)
            heapq.heappush(self._pending, entry)
            if self._pending[0] is entry:
                # A new earliest event: the sender timing the old one must look again.
                self._wake.notify_all()

    def _run(self) -> None:
        """A sender: one of them (the leader) sleeps until the earliest event is due, the others
        until they are needed, so an event costs one wake-up, not one per sender."""
        while True:
            with self._wake:
                while True:
                    if self._closed:
                        return
                    due = self._pending[0][0] - time.monotonic() if self._pending else None
                    if due is not None and due <= 0:
                        _, _, generation, xml, openid, event = heapq.heappop(self._pending)
                        self._wake.notify()  # the next event needs a leader
                        if generation == self._generation:
                            break
                        continue
                    if self._leader_waiting:
                        self._wake.wait()
                        continue
                    self._leader_waiting = True
                    try:
                        self._wake.wait(due)
                    finally:
                        self._leader_waiting = False
            self.deliver(xml, openid, event)

    def cancel_pending(self) -> None:
        """Drop scheduled events (sandbox reset): they belong to the forgotten state."""
        with self._wake:
            self._pending.clear()
            self._generation += 1
        with self._log_lock:
            self._log.clear()

    def pending_count(self) -> int:
        with self._wake:
            return len(self._pending)

    def deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._log_lock:
            return [d.to_json() for d in list(self._log)[-limit:]]

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
