"""Delayed callbacks (job-finish events): each is posted once, never before it is due, whatever
order and from however many threads they were scheduled."""

from __future__ import annotations

import random
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
