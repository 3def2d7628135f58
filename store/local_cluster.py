"""A Redis Cluster on loopback from the embedded ``redis-server``: masters, each with a replica.

Used by ``endfraud demo --cluster`` and by the tests and benchmarks that break a cluster on
purpose. Each node keeps its own append-only file and ``nodes.conf`` under its directory, so a
restart of all nodes re-forms the same cluster with its data (nothing to create twice).

Forming it: every master takes an even share of the 16384 slots (``CLUSTER ADDSLOTS``), all
nodes meet, then each replica follows its master (``CLUSTER REPLICATE``). Failover is Redis's
own: a master unreachable for ``cluster-node-timeout`` is replaced by its replica.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from store.redis import server_args, wait_until_up

CLUSTER_SLOTS = 16384


def node_args(port: int, data_dir: Path, node_timeout_ms: int, *, appendonly: bool = True,
              daemonize: bool = False) -> list[str]:
    args = server_args(port, data_dir, daemonize=daemonize, cluster=True)
    args += ["--cluster-node-timeout", str(node_timeout_ms),
             # A master without its replica keeps serving its slots (availability); WAIT in
             # store.replication is what makes acknowledged writes durable.
             "--cluster-require-full-coverage", "no"]
    if not appendonly:
        args += ["--appendonly", "no", "--save", ""]
    return args


def start_nodes(base_dir: Path, ports: list[int], node_timeout_ms: int, *,
                appendonly: bool = True) -> list[subprocess.Popen[bytes]]:
    """One server per port, data in ``base_dir/node<i>``; returns once every node answers.

    Each in its own session: a terminal's Ctrl-C reaches the whole foreground process group,
    and Redis must outlive the services that are still shutting down (the caller stops it last).
    """
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            args = node_args(port, base_dir / f"node{i}", node_timeout_ms, appendonly=appendonly)
            procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
        for port in ports:
            wait_until_up(f"redis://127.0.0.1:{port}/0")
    except BaseException:
        stop_nodes(procs)
        raise
    return procs


def form(ports: list[int], masters: int, timeout_s: float = 30.0) -> None:
    """Make ``ports[:masters]`` the masters and the rest their replicas, unless already formed."""
    clients = [redis.Redis(port=p, decode_responses=True) for p in ports]
    if _info(clients[0]).get("cluster_slots_assigned") == str(CLUSTER_SLOTS):
        wait_ready(ports, masters, len(ports) - masters, timeout_s)  # a restart: it re-forms
        return
    per_node = CLUSTER_SLOTS // masters
    for i, client in enumerate(clients[:masters]):
        first = i * per_node
        last = CLUSTER_SLOTS - 1 if i == masters - 1 else first + per_node - 1
        client.execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
    for port in ports[1:]:
        clients[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
    _wait(lambda: all(int(_info(c).get("cluster_known_nodes", 0)) == len(ports)
                      for c in clients), timeout_s, "nodes did not meet")
    for i, replica in enumerate(clients[masters:]):
        master_id = clients[i % masters].execute_command("CLUSTER MYID")
        _wait(lambda r=replica, m=master_id: _knows(r, m), timeout_s,
              "replica does not know its master")
        replica.execute_command("CLUSTER REPLICATE", master_id)
    wait_ready(ports, masters, len(ports) - masters, timeout_s)


def wait_ready(ports: list[int], masters: int, replicas: int, timeout_s: float = 30.0) -> None:
    """Until every node says ``cluster_state:ok`` and each master has its replicas in sync."""
    clients = [redis.Redis(port=p, decode_responses=True) for p in ports]

    def ready() -> bool:
        try:
            if not all(_info(c).get("cluster_state") == "ok" for c in clients):
                return False
            synced = 0
            for client in clients:
                info = client.info("replication")
                if info.get("role") == "slave" and info.get("master_link_status") == "up":
                    synced += 1
            return synced >= replicas
        except redis.RedisError:
            return False

    _wait(ready, timeout_s, f"cluster of {masters} masters + {replicas} replicas not ready")


def stop_nodes(procs: list[subprocess.Popen[bytes]], timeout_s: float = 10.0) -> None:
    """SIGTERM (Redis fsyncs its AOF on shutdown), then wait; SIGKILL what hangs."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def master_of_key(ports: list[int], key: str) -> int | None:
    """The port of the master currently serving ``key`` (None while no node claims it)."""
    for port in ports:
        try:
            client = redis.Redis(port=port, decode_responses=True, socket_timeout=1)
            if client.info("replication").get("role") != "master":
                continue
            slot = int(client.execute_command("CLUSTER KEYSLOT", key))
            for first, last, master, *_ in client.execute_command("CLUSTER SLOTS"):
                if int(first) <= slot <= int(last):
                    return int(master[1])
        except redis.RedisError:
            continue
    return None


def _knows(client: redis.Redis, node_id: str) -> bool:
    return node_id in str(client.execute_command("CLUSTER NODES"))


def _info(client: redis.Redis) -> dict[str, Any]:
    raw = client.execute_command("CLUSTER INFO")
    if isinstance(raw, dict):
        return {k: str(v) for k, v in raw.items()}
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return dict(line.split(":", 1) for line in text.split() if ":" in line)


def _wait(condition: Any, timeout_s: float, message: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise RuntimeError(f"redis cluster: {message} within {timeout_s:.0f} s")
