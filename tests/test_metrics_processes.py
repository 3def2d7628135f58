"""Metrics as Prometheus scrapes them: a real gunicorn with two workers (multiprocess mode) and a
real worker process on its --metrics-port, driven by real actions through the WeChat simulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from alerts.signing import signed_headers
from config import EXAMPLE_CONFIG
from sandbox.client import SandboxClient
from store.followers import FollowerDirectory
from store.phones import PhoneVault
from tests.conftest import make_config
from tests.servers import free_port, serve_wsgi

PROJECT = Path(__file__).resolve().parent.parent
PHONE = "13800138000"
SOURCE, SOURCE_KEY = "demo-platform", "demo-alert-source-key-not-for-production"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, **kwargs: Any) -> Samples:
    response = requests.get(url, timeout=5, **kwargs)
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def wait_for(predicate: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (requests.RequestException, KeyError, AssertionError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"condition not met: {last!r}")


def failed_login(web: str, username: str) -> int:
    with requests.Session() as browser:
        form = browser.get(f"{web}/console/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        return browser.post(f"{web}/console/login", timeout=10, data={
            "username": username, "password": "wrong", "csrf_token": token.group(1)}).status_code


class Deployment:
    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.web_port, self.worker_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.data_dir = tmp_path / "data"
        from sandbox.server import create_app as create_sandbox

        sbx_config = make_config(redis_url, sandbox={"callback_delay_ms": 10})
        self.sandbox_app = create_sandbox(sbx_config, webhook_url=f"{self.web}/wechat")
        self.sandbox_server, sandbox_url = serve_wsgi(self.sandbox_app)
        self.sbx = SandboxClient(sandbox_url)
        self.config = make_config(redis_url, wechat={"api_base_url": sandbox_url})
        self.env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
                    "ENDFRAUD_SERVICE__MODE": "demo",
                    "ENDFRAUD_SERVICE__PORT": str(self.web_port),
                    "ENDFRAUD_SERVICE__PUBLIC_URL": self.web,
                    "ENDFRAUD_SERVICE__DATA_DIR": str(self.data_dir),
                    "ENDFRAUD_SERVICE__WEB_WORKERS": "2",
                    "ENDFRAUD_REDIS__URL": redis_url,
                    "ENDFRAUD_WECHAT__API_BASE_URL": sandbox_url,
                    "ENDFRAUD_SMS__PROVIDER": "sandbox", "ENDFRAUD_SMS__SANDBOX_URL": sandbox_url,
                    "ENDFRAUD_QUEUE__BLOCK_MS": "100"}
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> None:
        self.procs.append(subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=PROJECT,
                                           env=self.env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.sandbox_app.extensions["sandbox"].webhook.close()
        self.sandbox_server.shutdown()

    def post_alert(self, alert_id: str) -> requests.Response:
        import json
        import secrets

        raw = json.dumps({"alert_id": alert_id, "phone": PHONE, "fraud_type": "police",
                          "channel": "call", "counterpart": "+85261234567",
                          "risk_level": "medium", "detected_at": time.time() - 1,
                          "source": SOURCE}).encode()
        headers = signed_headers(SOURCE, SOURCE_KEY, raw, time.time(), secrets.token_hex(8))
        return requests.post(f"{self.web}/api/v1/alerts", data=raw, headers=headers, timeout=10)


@pytest.fixture
def deployment(tmp_path: Path, redis_url: str, redis: Any) -> Iterator[Deployment]:
    d = Deployment(tmp_path, redis_url)
    # A file left by an earlier run would be summed into this run's figures.
    stale = d.data_dir / f"prometheus-web-{d.web_port}"
    stale.mkdir(parents=True)
    (stale / "counter_999999.db").write_bytes(b"left over from a previous run")
    d.start("web")
    d.start("worker", "--metrics-port", str(d.worker_port))
    try:
        wait_for(lambda: requests.get(f"{d.web}/healthz", timeout=1).json()["worker"])
        yield d
    finally:
        d.stop()


@pytest.mark.timeout(180)
def test_gunicorn_workers_and_the_worker_process_export_counters_that_move(deployment, redis):
    d = deployment
    assert not (d.data_dir / f"prometheus-web-{d.web_port}" / "counter_999999.db").exists()
    web_metrics, worker_metrics = f"{d.web}/metrics", f"http://127.0.0.1:{d.worker_port}/metrics"

    # Six failed sign-ins, each on a new connection: the two gunicorn workers share them out,
    # and every scrape, whichever worker answers it, shows all six.
    for n in range(6):
        assert failed_login(d.web, f"nobody{n}") == 401
    failures = ("endfraud_console_login_failures_total", (("reason", "invalid"),))
    for _ in range(4):
        assert scrape(web_metrics)[failures] == 6

    # A citizen follows through the simulator (a real webhook call), binds, and is warned.
    openid = d.sbx.new_citizen()
    d.sbx.follow(openid)
    FollowerDirectory(redis, PhoneVault.from_config(d.config.privacy)).bind_own_phone(openid, PHONE)
    assert d.post_alert("metrics-1").status_code == 202
    wait_for(lambda: d.sbx.messages(openid, kind="template"))

    web = scrape(web_metrics)
    assert web[("endfraud_alerts_received_total", ())] == 1
    assert web[("endfraud_http_request_duration_seconds_count", (("route", "/wechat"),))] >= 1
    assert web[("endfraud_http_requests_total", (("method", "POST"), ("route", "/api/v1/alerts"),
                                                 ("status", "202")))] == 1

    # The alert.received job warns the owner itself; counted once it has finished.
    worker = wait_for(lambda: (s := scrape(worker_metrics))[
        ("endfraud_jobs_total", (("outcome", "done"), ("queue", "warnings")))] == 1 and s)
    assert worker[("endfraud_alerts_warnings_sent_total",
                   (("channel", "template"), ("role", "owner")))] == 1
    assert worker[("endfraud_wechat_api_calls_total",
                   (("endpoint", "message/template/send"), ("errcode", "0")))] == 1
    assert worker[("endfraud_alerts_warning_latency_seconds_count", ())] == 1


@pytest.mark.timeout(180)
def test_worker_process_counts_a_dead_lettered_job(deployment, redis):
    from store.streams import DurableQueue
    from worker.queues import BOT

    d = deployment
    DurableQueue(redis, BOT, d.config.queue).enqueue("no.such.job", {"x": 1})
    worker_metrics = f"http://127.0.0.1:{d.worker_port}/metrics"
    samples = wait_for(lambda: (s := scrape(worker_metrics))[
        ("endfraud_queue_dead_lettered_total", (("queue", BOT),))] == 1 and s)
    assert samples[("endfraud_jobs_total", (("outcome", "dead"), ("queue", BOT)))] == 1
    web = scrape(f"{d.web}/metrics")
    assert web[("endfraud_queue_dead_letters", (("queue", BOT),))] == 1
