"""Process-level faults: a worker process killed mid-send, Redis restarting under load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import redis as redis_lib

from alerts.store import AlertStore
from store.streams import DurableQueue
from tests import servers
from tests.alerts.conftest import alert_body, start_live
from worker.process import run_worker
from worker.queues import ALL_QUEUES

PHONE = "13300133000"


def worker_process(live, project_root) -> subprocess.Popen:
    env = {**os.environ, "ENDFRAUD_CONFIG": str(project_root / "config.example.toml"),
           "ENDFRAUD_SERVICE__MODE": "demo",
           "ENDFRAUD_SERVICE__PUBLIC_URL": live.config.service.public_url,
           "ENDFRAUD_REDIS__URL": live.config.redis.url,
           "ENDFRAUD_WECHAT__API_BASE_URL": live.config.wechat.api_base_url,
           "ENDFRAUD_WECHAT__TIMEOUT_S": "5", "ENDFRAUD_SMS__PROVIDER": "sandbox",
           "ENDFRAUD_SMS__SANDBOX_URL": live.config.sms.sandbox_url,
           "ENDFRAUD_QUEUE__RECLAIM_IDLE_S": "1", "ENDFRAUD_QUEUE__BLOCK_MS": "100",
           "ENDFRAUD_ALERTS__UNCONFIRMED_RESEND_S": "5"}
    return subprocess.Popen([sys.executable, "-m", "cli", "worker"], cwd=project_root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_process_killed_during_the_send_warns_once(live, project_root):
    owner = live.follower(phone=PHONE)
    live.sbx.set_fault(api="message/template/send", fault="hang", hang_ms=2500)
    first = worker_process(live, project_root)
    try:
        live.post(alert_body("k1", PHONE))
        live.wait_for(lambda: live.sbx.stats()["api_calls"].get("message/template/send"),
                      what="the worker process's template call")
        first.send_signal(signal.SIGKILL)  # mid-call: the simulator still delivers
        first.wait(60)
        live.wait_for(lambda: live.templates(owner), what="the held template delivered")
        second = worker_process(live, project_root)
        try:
            store = AlertStore(live.redis, 86400)
            live.wait_for(lambda: (m := store.marker("k1", f"r:{owner}")) and
                          m.state == "delivered", what="the second worker confirming it")
        finally:
            second.terminate()
            second.wait(60)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(live.templates(owner)) == 1


def test_redis_restart_mid_run_loses_nothing_and_warns_nobody_twice(tmp_path):
    proc, port = servers.start_redis(tmp_path / "r", appendonly=True)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    stop = threading.Event()
    try:
        with start_live(client, url) as live:
            owner = live.follower(phone=PHONE)
            worker = threading.Thread(target=run_worker, args=(live.config, client, stop),
                                      daemon=True)
            worker.start()
            assert live.post([alert_body(f"r{i}", PHONE) for i in range(10)]).status_code == 202
            live.wait_for(lambda: len(live.templates(owner)) >= 3, what="warnings under way")
            proc.terminate()  # clean shutdown: the AOF is flushed
            proc.wait(10)
            proc, _ = servers.start_redis(tmp_path / "r", port=port, appendonly=True)
            assert live.post([alert_body(f"s{i}", PHONE) for i in range(10)]).status_code == 202
            live.wait_for(lambda: len(live.templates(owner)) >= 20, timeout_s=90,
                          what="all twenty warnings")
            # Every job acknowledged (or dead-lettered), then the worker stopped: nothing is
            # left that could send again, so the counts below are final.
            live.wait_for(lambda: all(DurableQueue(client, name).depth() == 0
                                      for name in ALL_QUEUES), what="the queues drained")
            stop.set()
            worker.join(timeout=60)
            assert not worker.is_alive()
            assert len(live.templates(owner)) == 20
            assert live.sbx.stats()["duplicates"].get("template", 0) == 0
    finally:
        stop.set()
        servers.stop([proc])
