"""Acknowledged means replicated: ``WAIT`` for a replica before telling anyone a write is safe.

Redis replicates asynchronously: a master can answer a write and die before its replica has it,
and the promoted replica never had it ("Redis Cluster consistency guarantees",
https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/). ``WAIT numreplicas
timeout`` blocks until that many replicas acknowledged everything the *same connection* wrote
before (https://redis.io/docs/latest/commands/wait/). So a replicated write is a pipeline on one
connection to the master that owns the key, ending in ``WAIT``:

- standalone: a pipeline on our client (one connection per pipeline);
- cluster: a pipeline on the owning master's own client (``RedisCluster.get_node_from_key``),
  because a cluster pipeline would send a keyless ``WAIT`` to some other node. A stale slot map
  (MOVED) or a dead master (connection refused) refreshes the map and raises; the caller answers
  503 / retries, as for any store error.

Where the master has no replica (standalone Redis without replicas, or a promoted master whose
old master has not come back) the ``WAIT`` is skipped: there is nothing to wait for, and refusing
every write would turn a degraded cluster into an outage. The replica count comes from
``INFO replication`` on that master, cached for ``REPLICA_CHECK_S``.

``fence`` covers writes made on other connections (e.g. a staff edit made of several calls): it
writes a counter that lives on the same master and waits for it; replication is ordered, so a
replica that has the counter has everything written before it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from redis import Redis

from store import keys
from store.redis import RedisClient, refresh_slot_map

REPLICA_CHECK_S = 1.0
FENCE_TTL_S = 3600
# What a direct-to-node pipeline meets while the cluster moves a slot or fails a master over.
TOPOLOGY_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.MovedError,
                   redis.exceptions.AskError, redis.exceptions.ClusterDownError,
                   redis.exceptions.TryAgainError)


# Per process, shared by every Replication object: master address -> (replicas, valid until).
_REPLICAS: dict[str, tuple[int, float]] = {}
_FENCE_KEYS: dict[str, str] = {}
_LOCK = threading.Lock()


class NotReplicated(redis.RedisError):  # type: ignore[misc]  # redis is Any to mypy
    """No replica confirmed the write in time: it may vanish in a failover; do not acknowledge."""


@dataclass
class Replication:
    redis: RedisClient
    timeout_ms: int = 500

    @property
    def is_cluster(self) -> bool:
        return isinstance(self.redis, redis.RedisCluster)

    def node_client(self, key: str) -> Redis:
        """A plain client for the master that owns ``key`` (our own client when standalone)."""
        if not isinstance(self.redis, redis.RedisCluster):
            return self.redis
        node = self.redis.get_node_from_key(key)
        client = self.redis.get_redis_connection(node)
        return client

    def pipeline(self, key: str) -> Any:
        """A non-transactional pipeline on the master owning ``key``; run it with ``execute``."""
        return self.node_client(key).pipeline(transaction=False)

    def execute(self, pipe: Any) -> list[Any]:
        """Run ``pipe`` and, where the master has replicas, WAIT for one; the pipeline's replies.

        Raises ``NotReplicated`` when no replica confirmed within ``timeout_ms`` (the writes
        happened on the master; the caller must not acknowledge them) and the store's own errors
        otherwise, after refreshing a cluster's slot map when the topology moved.
        """
        client = pipe  # the pipeline shares its client's connection pool and address
        replicas = self._replica_count(client)
        if replicas:
            pipe.execute_command("WAIT", 1, self.timeout_ms)
        try:
            replies = pipe.execute()
        except TOPOLOGY_ERRORS:
            self._refresh_topology()
            raise
        if replicas:
            acked = replies.pop()
            if int(acked) < 1:
                self._forget(client)
                raise NotReplicated(f"no replica acknowledged within {self.timeout_ms} ms")
        return list(replies)

    def fence(self, key: str) -> None:
        """Wait until a replica of the master owning ``key`` has everything written so far."""
        pipe = self.pipeline(key)
        if not self._replica_count(pipe):
            return
        pipe.incr(self._fence_key(key))
        pipe.expire(self._fence_key(key), FENCE_TTL_S)
        self.execute(pipe)

    def fence_all(self) -> None:
        """``fence`` on every master (a staff edit may have touched keys anywhere)."""
        if not isinstance(self.redis, redis.RedisCluster):
            self.fence(keys.replication_fence(""))
            return
        for node in self.redis.get_primaries():
            self.fence(self._fence_key_for_node(node.name))

    # -- replica count, cached per master ------------------------------------------------------

    def _replica_count(self, pipe: Any) -> int:
        kwargs = pipe.connection_pool.connection_kwargs
        name = f"{kwargs.get('host')}:{kwargs.get('port')}:{kwargs.get('path', '')}"
        now = time.monotonic()
        cached = _REPLICAS.get(name)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            info = redis.Redis(connection_pool=pipe.connection_pool).info("replication")
        except TOPOLOGY_ERRORS:
            self._refresh_topology()
            raise
        count = int(info.get("connected_slaves", 0)) if info.get("role") == "master" else 0
        _REPLICAS[name] = (count, now + REPLICA_CHECK_S)
        return count

    def _forget(self, pipe: Any) -> None:
        kwargs = pipe.connection_pool.connection_kwargs
        _REPLICAS.pop(f"{kwargs.get('host')}:{kwargs.get('port')}:{kwargs.get('path', '')}",
                           None)

    def _refresh_topology(self) -> None:
        _REPLICAS.clear()
        _FENCE_KEYS.clear()
        # The cluster may be mid-failover; the next call tries again.
        refresh_slot_map(self.redis)

    # -- fence keys: one per master, found by hash tag ------------------------------------------

    def _fence_key(self, key: str) -> str:
        if not isinstance(self.redis, redis.RedisCluster):
            return keys.replication_fence("")
        node = self.redis.get_node_from_key(key)
        return self._fence_key_for_node(node.name)

    def _fence_key_for_node(self, node_name: str) -> str:
        assert isinstance(self.redis, redis.RedisCluster)
        with _LOCK:
            found = _FENCE_KEYS.get(node_name)
            if found is not None:
                return found
            for n in range(100_000):
                candidate = keys.replication_fence(str(n))
                if self.redis.get_node_from_key(candidate).name == node_name:
                    _FENCE_KEYS[node_name] = candidate
                    return candidate
        raise redis.RedisError(f"no fence key maps to {node_name}")

