"""Real Redis servers for tests: one standalone, and a 3-master cluster on loopback ports."""

from __future__ import annotations

import random
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import redis
from werkzeug.serving import BaseWSGIServer, make_server

from store.redis import redis_server_binary, wait_until_up

CLUSTER_SLOTS = 16384


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(cluster_bus: bool = False) -> int:
    """A free loopback port; for cluster nodes also port+10000 (the cluster bus) must be free."""
    if not cluster_bus:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _is_free(port) and _is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def start_redis(data_dir: Path, port: int | None = None, *, cluster: bool = False,
                appendonly: bool = False) -> tuple[subprocess.Popen[bytes], int]:
    port = port or free_port(cluster_bus=cluster)
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
            "--dir", str(data_dir), "--save", "", "--appendonly", "yes" if appendonly else "no",
            "--appendfsync", "everysec", "--logfile", str(data_dir / "redis.log")]
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file", str(data_dir / "nodes.conf"),
                 "--cluster-node-timeout", "2000"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"redis://127.0.0.1:{port}/0")
    return proc, port


def start_cluster(base_dir: Path,
                  masters: int = 3) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    """Start ``masters`` cluster-mode servers, split the 16384 slots, and join them."""
    procs: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for i in range(masters):
            proc, port = start_redis(base_dir / f"node{i}", cluster=True)
            procs.append(proc)
            ports.append(port)
        _join(ports, masters)
    except BaseException:
        stop(procs)  # never leave half a cluster running
        raise
    return procs, ports


def _join(ports: list[int], masters: int) -> None:
    clients = [redis.Redis(port=p) for p in ports]
    per_node = CLUSTER_SLOTS // masters
    for i, client in enumerate(clients):
        first = i * per_node
        last = CLUSTER_SLOTS - 1 if i == masters - 1 else first + per_node - 1
        client.execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
    for port in ports[1:]:
        clients[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(_cluster_ready(c, masters) for c in clients):
            return
        time.sleep(0.1)
    raise RuntimeError("redis cluster did not reach cluster_state:ok")


def _cluster_ready(client: redis.Redis, masters: int) -> bool:
    info = client.cluster("INFO")
    if isinstance(info, (bytes, str)):
        text = info.decode() if isinstance(info, bytes) else info
        info = dict(line.split(":", 1) for line in text.split() if ":" in line)
    return (str(info.get("cluster_state")) == "ok"
            and int(info.get("cluster_known_nodes", 0)) == masters)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_wsgi(app: Any, port: int = 0) -> tuple[BaseWSGIServer, str]:
    """A WSGI app on a real threaded loopback server: (server, base URL ending in '/').

    Stop it with ``server.shutdown()``; the short poll interval keeps that, and so each test, fast.
    """
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"
