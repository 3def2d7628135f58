"""Delayed callbacks (job-finish events): each is posted once, never before it is due, whatever
order and from however many threads they were scheduled."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from typing import Any

from sandbox.webhook import Webhook
from sandbox.wire import Envelope
from tests.servers import serve_wsgi
from tests.waiting import wait_until


def test_events_scheduled_from_many_threads_arrive_once_each_and_not_early() -> None:
    arrived: dict[str, float] = {}
    posts: Counter[str] = Counter()
    lock = threading.Lock()

    def webhook_app(environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode()
        with lock:
            posts[body] += 1
            arrived.setdefault(body, time.monotonic())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"success"]

    server, url = serve_wsgi(webhook_app)
    hook = Webhook(url + "wechat", Envelope("gh_test", "token", "wx1", "", "plain"))
    due: dict[str, float] = {}
    rng = random.Random(7)
    plan = [(f"<xml>{n}</xml>", rng.choice([0.0, 0.01, 0.05, 0.2, 0.5])) for n in range(300)]

    def schedule(part: list[tuple[str, float]]) -> None:
        for xml, delay in part:
            with lock:
                due[xml] = time.monotonic() + delay
            hook.schedule(delay, xml, "oTest", "TEMPLATESENDJOBFINISH")

    try:
        threads = [threading.Thread(target=schedule, args=(plan[i::6],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wait_until(lambda: len(arrived) == len(plan), timeout_s=30)
        time.sleep(0.3)  # anything posted twice would have arrived by now
        assert sorted(arrived) == sorted(due)
        assert set(posts.values()) == {1}
        assert all(arrived[xml] >= due[xml] - 0.002 for xml in due)
        assert hook.pending_count() == 0
    finally:
        hook.close()
        server.shutdown()


def test_a_keep_alive_connection_the_server_closed_meanwhile_costs_no_attempt() -> None:
    # gunicorn closes idle keep-alive connections after a few seconds; the next callback must
    # not spend one of WeChat's three attempts (or fail) on the dead connection.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    handled: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(rest) < length:
                    rest += conn.recv(65536)
                handled.append(rest)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
                             b"Connection: keep-alive\r\n\r\nsuccess")
            # Closed right after answering, though the client was told keep-alive.

    threading.Thread(target=serve, daemon=True).start()
    hook = Webhook(f"http://127.0.0.1:{port}/wechat", Envelope("gh_t", "token", "wx1", "", "plain"))
    try:
        first = hook.deliver("<xml>1</xml>", "oTest", "TEMPLATESENDJOBFINISH")
        time.sleep(0.1)  # the server has closed the connection by now
        second = hook.deliver("<xml>2</xml>", "oTest", "TEMPLATESENDJOBFINISH")
    finally:
        hook.close()
        listener.close()
    assert (first.ok, first.attempts) == (True, 1)
    assert (second.ok, second.attempts) == (True, 1)
    assert handled == [b"<xml>1</xml>", b"<xml>2</xml>"]


def test_a_callback_after_the_webhook_url_changed_goes_to_the_new_server_at_once() -> None:
    # Tests (and a restarted app on another port) point the simulator elsewhere; a connection
    # kept alive to the old server must not take the next callback there.
    seen: dict[str, list[bytes]] = {"old": [], "new": []}

    def app_for(name: str) -> Any:
        def webhook_app(environ: dict, start_response: Any) -> list[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            seen[name].append(environ["wsgi.input"].read(length))
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"success"]
        return webhook_app

    old_server, old_url = serve_wsgi(app_for("old"))
    new_server, new_url = serve_wsgi(app_for("new"))
    hook = Webhook(old_url + "wechat", Envelope("gh_t", "token", "wx1", "", "plain"))
    try:
        hook.deliver("<xml>1</xml>", "oTest", "TEMPLATESENDJOBFINISH")
        hook.url = new_url + "wechat"
        second = hook.deliver("<xml>2</xml>", "oTest", "TEMPLATESENDJOBFINISH")
    finally:
        hook.close()
        old_server.shutdown()
        new_server.shutdown()
    assert (second.ok, second.attempts) == (True, 1)
    assert seen == {"old": [b"<xml>1</xml>"], "new": [b"<xml>2</xml>"]}
