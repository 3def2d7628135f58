"""Real Redis servers for tests: one standalone, and a 3-master cluster on loopback ports."""

from __future__ import annotations

import random
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from store import local_cluster
from store.redis import redis_server_binary, wait_until_up


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


def start_cluster(base_dir: Path, masters: int = 3, replicas: int = 0,
                  node_timeout_ms: int = 2000) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    """Start ``masters`` cluster-mode servers (plus ``replicas`` per master), split the 16384
    slots and join them; the first ``masters`` ports are the masters."""
    ports: list[int] = []
    while len(ports) < masters * (1 + replicas):
        port = free_port(cluster_bus=True)
        if all(abs(port - p) not in (0, 10000) for p in ports):
            ports.append(port)
    procs = local_cluster.start_nodes(base_dir, ports, node_timeout_ms, appendonly=False)
    try:
        local_cluster.form(ports, masters)
    except BaseException:
        stop(procs)  # never leave half a cluster running
        raise
    return procs, ports


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
