"""The processes as a user runs them: embedded Redis, gunicorn web, scheduler lease, demo."""

from __future__ import annotations

import os
import re
import signal
import socket
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


def _demo_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {**os.environ,
           "ENDFRAUD_SERVICE__PORT": str(free_port()),
           "ENDFRAUD_SERVICE__DATA_DIR": str(tmp_path / "data"),
           "ENDFRAUD_SANDBOX__PORT": str(free_port()),
           "ENDFRAUD_REDIS__EMBEDDED_PORT": str(free_port()), **overrides}
    env.pop("ENDFRAUD_CONFIG", None)
    env.pop("ENDFRAUD_SERVICE__PUBLIC_URL", None)
    return env


@pytest.mark.timeout(60)
@pytest.mark.parametrize("busy", ["ENDFRAUD_SERVICE__PORT", "ENDFRAUD_REDIS__EMBEDDED_PORT"])
def test_demo_refuses_a_busy_port_naming_it_and_starts_nothing(tmp_path, busy):
    # Another demo already running: its Redis must not silently become this demo's store.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([str(PROJECT / ".venv/bin/endfraud"), "demo"],
                              env=_demo_env(tmp_path, **{busy: str(port)}), cwd=PROJECT,
                              capture_output=True, text=True, timeout=50)
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and f"{busy}=<port>" in done.stderr
    assert not (tmp_path / "data" / "redis").exists()


@pytest.mark.timeout(240)
def test_demo_on_another_port_points_the_simulator_and_links_at_that_port(tmp_path):
    env = _demo_env(tmp_path)
    web = env["ENDFRAUD_SERVICE__PORT"]
    proc = subprocess.Popen([str(PROJECT / ".venv/bin/endfraud"), "demo"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=PROJECT)
    try:
        banner = _read_banner(proc)
        assert f"http://127.0.0.1:{web}/wechat" in banner
        sandbox = f"http://127.0.0.1:{env['ENDFRAUD_SANDBOX__PORT']}"
        openid = requests.post(f"{sandbox}/sandbox/api/citizens", json={}, timeout=10).json()[
            "openid"]
        followed = requests.post(f"{sandbox}/sandbox/api/citizens/{openid}/follow", json={},
                                 timeout=30).json()
        assert followed["delivered"] and followed["reply"] is not None
    finally:
        assert _stop(proc) == 0


@pytest.mark.timeout(240)
def test_ctrl_c_stops_the_services_before_their_redis(tmp_path):
    # A terminal's Ctrl-C signals the whole foreground process group at once.
    proc = subprocess.Popen([str(PROJECT / ".venv/bin/endfraud"), "demo"],
                            env=_demo_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=PROJECT,
                            start_new_session=True)
    try:
        _read_banner(proc)
        # The terminal's signal reaches the demo alone: each child leads its own session, so
        # it gets exactly one signal, from the demo, in order (services, then Redis).
        children = _children_of(proc.pid)
        assert len(children) == 5  # redis, sandbox, worker, scheduler, web
        assert all(_session_of(child) == child for child in children)
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # a failed assertion above: let the demo stop what it started
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0
    assert "could not remove its consumer reports" not in rest
    assert "Connection refused" not in rest and "Connection closed by server" not in rest
    # Nothing outlives it (gunicorn workers hit by two signals at once used to hang on).
    marker = str(tmp_path / "data").encode()
    deadline = time.monotonic() + 30
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []


def _stat_fields(pid: int) -> list[bytes]:
    # Fields after the ")" closing the command name: state, ppid, pgrp, session, ...
    return (Path("/proc") / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(_stat_fields(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _session_of(pid: int) -> int:
    return int(_stat_fields(pid)[3])


def _processes_with(marker: bytes) -> list[int]:
    """Live processes whose environment mentions ``marker`` (the demo's own data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes() and \
                    _stat_fields(int(entry.name))[0] != b"Z":  # a zombie is already gone
                found.append(int(entry.name))
        except OSError:
            continue
    return found


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


def _stop(proc: subprocess.Popen[str], timeout_s: float = 30) -> int:
    """Ctrl-C the demo as a user would; its exit code (killed if it will not stop)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=timeout_s)
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
