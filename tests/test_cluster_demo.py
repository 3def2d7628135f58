"""``endfraud demo --cluster``: the whole system on a local 3+3-node Redis Cluster, as a user
runs it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib

from store.followers import FollowerDirectory
from store.phones import PhoneVault
from tests.conftest import make_config
from tests.servers import free_port
from tests.test_processes import _read_banner, _stop, _wait_http
from worker.queues import ALL_QUEUES

PROJECT = Path(__file__).resolve().parent.parent


def _free_range(count: int) -> int:
    """A base port with base..base+count-1 and their cluster-bus ports (+10000) free."""
    from tests.servers import _is_free

    for _ in range(200):
        base = free_port(cluster_bus=True)
        if base + count < 55000 and all(_is_free(base + i) and _is_free(base + i + 10000)
                                         for i in range(count)):
            return base
    raise RuntimeError("no free port range for the demo cluster")


def _web_port() -> int:
    from tests.servers import _is_free

    while True:
        port = free_port()
        if _is_free(port + 2):
            return port


@pytest.mark.timeout(300)
def test_cluster_demo_warns_through_either_web_process_and_restart_keeps_data(tmp_path):
    from sandbox.client import SandboxClient

    web, redis_base, sandbox = _web_port(), _free_range(6), free_port()
    env = {**os.environ,
           "ENDFRAUD_SERVICE__PORT": str(web),
           "ENDFRAUD_SERVICE__PUBLIC_URL": f"http://127.0.0.1:{web}",
           "ENDFRAUD_SERVICE__DATA_DIR": str(tmp_path / "data"),
           "ENDFRAUD_SANDBOX__PORT": str(sandbox),
           "ENDFRAUD_REDIS__EMBEDDED_PORT": str(redis_base)}
    env.pop("ENDFRAUD_CONFIG", None)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([str(PROJECT / ".venv/bin/endfraud"), "demo", "--cluster"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=PROJECT)

    def stop(proc: subprocess.Popen[str]) -> int:
        return _stop(proc, timeout_s=60)

    proc = start()
    try:
        _read_banner(proc, timeout_s=120)
        for port in (web, web + 2):
            state = _wait_http(f"http://127.0.0.1:{port}/healthz").json()
            assert {k: state[k] for k in ("redis", "web", "worker", "scheduler", "consumers")} \
                == {"redis": True, "web": True, "worker": True, "scheduler": True,
                    "consumers": True}
            # Three workers, each with a consumer per queue, all healthy.
            assert len(state["consumer"]) == 3 * len(ALL_QUEUES)
            assert all(state["consumer"].values())
        store = redis_lib.RedisCluster(host="127.0.0.1", port=redis_base, decode_responses=True)
        roles = [redis_lib.Redis(port=redis_base + i).info("replication")["role"]
                 for i in range(6)]
        assert sorted(roles) == ["master"] * 3 + ["slave"] * 3
        phone = SandboxClient(f"http://127.0.0.1:{sandbox}")
        openid = phone.new_citizen()
        phone.follow(openid)
        config = make_config("")
        FollowerDirectory(store, PhoneVault.from_config(config.privacy)).bind_own_phone(
            openid, "13800138077")
        sent = subprocess.run([str(PROJECT / ".venv/bin/python"), "-m", "alerts.send_demo_alert",
                               "13800138077", "--url", f"http://127.0.0.1:{web + 2}"],
                              cwd=PROJECT, capture_output=True, text=True, timeout=60,
                              check=False)
        assert sent.stdout.startswith("202"), sent.stdout + sent.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(m["kind"] == "template" for m in phone.messages(openid=openid)):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the warning never reached the phone")
    finally:
        assert stop(proc) == 0
    with pytest.raises(redis_lib.ConnectionError):
        redis_lib.Redis(port=redis_base).ping()

    proc = start()
    try:
        _read_banner(proc, timeout_s=120)
        store = redis_lib.RedisCluster(host="127.0.0.1", port=redis_base, decode_responses=True)
        directory = FollowerDirectory(store, PhoneVault.from_config(make_config("").privacy))
        assert directory.get(openid) is not None
    finally:
        stop(proc)
