"""The webhook through a short Redis outage (a master failing over refuses connections for a
few seconds): the message is handled within WeChat's 5 s, not answered 500 at once. WeChat
gives up on a message its retries could not deliver, and a lost receipt of a warning whose
sender died is a second warning (benchmarks/chaos.py found one)."""

from __future__ import annotations

import threading
import time

import redis as redis_lib

from alerts.store import AlertStore, recipient_field
from tests import servers, wx
from tests.conftest import make_config
from tests.test_web_round_trips import receipt, sent_warning


def test_a_receipt_posted_while_redis_is_down_is_applied_once_it_is_back(tmp_path):
    from app import create_app

    proc, port = servers.start_redis(tmp_path / "r", appendonly=True)
    url = f"redis://127.0.0.1:{port}/0"
    config = make_config(url)
    redis = redis_lib.Redis(port=port, decode_responses=True)
    store = AlertStore(redis, 86400)
    sent_warning(store, "a-1", "o_owner", "3000000002")
    app = create_app(config, redis_lib.Redis.from_url(url, decode_responses=True))
    app.testing = True
    client = app.test_client()
    redis.shutdown(nosave=False)
    proc.wait(timeout=10)
    answers: list[int] = []
    try:
        posting = threading.Thread(target=lambda: answers.append(
            wx.post(client, config, receipt("o_owner", "3000000002")).status_code))
        posting.start()
        time.sleep(0.8)  # the request meets refused connections meanwhile
        proc, _ = servers.start_redis(tmp_path / "r", port=port, appendonly=True)
        posting.join(timeout=30)
        assert answers == [200]
        marker = store.marker("a-1", recipient_field("o_owner"))
        assert marker is not None and marker.state == "delivered"
    finally:
        servers.stop([proc])
