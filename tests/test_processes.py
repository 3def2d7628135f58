"""The processes as a user runs them: embedded Redis, gunicorn web, scheduler lease, demo."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis as redis_lib
import requests

from scheduler.process import Lease, run_scheduler
from store import keys
from store.redis import connect, ensure_embedded, stop_embedded
from tests.conftest import make_config
from tests.servers import free_port
from tests.waiting import wait_until, watch_commands

PROJECT = Path(__file__).resolve().parent.parent


def test_embedded_redis_keeps_data_across_restart(tmp_path):
    config = make_config("", service={"data_dir": str(tmp_path)},
                         redis={"embedded_port": free_port()})
    client = connect(config)
    client.set("survivor", "yes")
    stop_embedded(config)
    with pytest.raises(redis_lib.ConnectionError):
        client.ping()
    ensure_embedded(config)
    try:
        assert connect(config).get("survivor") == "yes"
        assert (tmp_path / "redis" / "appendonly.aof").exists() or \
            (tmp_path / "redis" / "appendonlydir").exists()
    finally:
        stop_embedded(config)


def test_only_one_scheduler_holds_the_lease(redis):
    first, second = Lease(redis, keys.scheduler_leader()), Lease(redis, keys.scheduler_leader())
    assert first.acquire()
    assert not second.acquire()
    assert first.renew()
    assert not second.renew()
    first.release()
    assert second.acquire()


def test_standby_scheduler_takes_over_when_the_leader_stops(redis, config):
    stop_a, stop_b = threading.Event(), threading.Event()
    a = threading.Thread(target=run_scheduler, args=(config, redis, stop_a))
    a.start()
    b = threading.Thread(target=run_scheduler, args=(config, redis, stop_b))
    try:
        leader = wait_until(lambda: redis.get(keys.scheduler_leader()), what="a leader")
        with watch_commands(redis) as watch:
            b.start()
            # The standby's first look at the lease (SET NX; the leader renews by script).
            watch.until(lambda c: c.startswith(f"SET {keys.scheduler_leader()} ")
                        and "NX" in c.split(), "the standby asking for the lease")
        assert redis.get(keys.scheduler_leader()) == leader
        stop_a.set()
        a.join(timeout=60)
        wait_until(lambda: redis.get(keys.scheduler_leader()) not in (None, leader),
                   what="the standby holding the lease")
    finally:
        stop_a.set()
        stop_b.set()
        a.join(timeout=60)
        if b.is_alive():
            b.join(timeout=60)


def _wait_http(url: str, timeout_s: float = 120.0) -> requests.Response:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=1)
        except requests.RequestException as exc:
            last = exc
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered: {last}")


@pytest.fixture
def demo(tmp_path):
    """`endfraud demo` on free ports with its own data dir, as a user would start it."""
    ports = {"web": free_port(), "sandbox": free_port(), "redis": free_port()}
    env = {**os.environ,
           "ENDFRAUD_SERVICE__PORT": str(ports["web"]),
           "ENDFRAUD_SERVICE__PUBLIC_URL": f"http://127.0.0.1:{ports['web']}",
           "ENDFRAUD_SERVICE__DATA_DIR": str(tmp_path / "data"),
           "ENDFRAUD_SANDBOX__PORT": str(ports["sandbox"]),
           "ENDFRAUD_REDIS__EMBEDDED_PORT": str(ports["redis"])}
    env.pop("ENDFRAUD_CONFIG", None)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([str(PROJECT / ".venv/bin/endfraud"), "demo"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                cwd=PROJECT)
    yield ports, start


def _read_banner(proc: subprocess.Popen[str], timeout_s: float = 120) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "password:" in line:
            return "".join(lines)
    raise AssertionError("demo banner not printed:\n" + "".join(lines[-40:]))


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.timeout(300)
def test_demo_runs_everything_and_restart_keeps_data(demo):
    from sandbox.client import SandboxClient

    ports, start = demo
    proc = start()
    try:
        banner = _read_banner(proc)
        assert f"http://127.0.0.1:{ports['web']}/wechat" in banner
        assert "/sandbox/phone" in banner and "/console/" in banner
        # Worker and scheduler each serve their own Prometheus metrics on the ports printed
        # (the banner's lines after the password).
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, ""):
            banner += line
            if "scheduler http" in line:
                break
        for role in ("worker", "scheduler"):
            port = re.search(rf"{role} http://127\.0\.0\.1:(\d+)/metrics", banner)
            assert port, banner
            scraped = _wait_http(f"http://127.0.0.1:{port.group(1)}/metrics")
            assert scraped.status_code == 200 and "# TYPE endfraud_" in scraped.text
        healthz = f"http://127.0.0.1:{ports['web']}/healthz"
        _wait_http(healthz)
        # The banner comes first; the worker and scheduler report in on their first beat.
        health = wait_until(
            lambda: r if (r := requests.get(healthz, timeout=10)).status_code == 200 else None,
            what="/healthz green")
        state = health.json()
        assert {k: state[k] for k in ("redis", "web", "worker", "scheduler", "consumers")} == {
            "redis": True, "web": True, "worker": True, "scheduler": True, "consumers": True}
        assert state["consumer"] and all(state["consumer"].values())
        phone = SandboxClient(f"http://127.0.0.1:{ports['sandbox']}")
        openid = phone.new_citizen()
        # Scanning the seeded officer's code: the welcome reply arrives on the phone.
        phone.follow(openid, scene="o:demo-o1")
        replies = [m for m in phone.messages(openid=openid) if m["kind"] == "reply"]
        assert replies, "no welcome reply"
    finally:
        assert _stop(proc) == 0
    store = redis_lib.Redis(port=ports["redis"])
    with pytest.raises(redis_lib.ConnectionError):
        store.ping()

    proc = start()
    try:
        _read_banner(proc)
        store = redis_lib.Redis(port=ports["redis"], decode_responses=True)
        assert store.hget(keys.follower_last_active(openid), openid) is not None
    finally:
        _stop(proc)
