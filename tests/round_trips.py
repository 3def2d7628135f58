"""Counting what code costs Redis: round trips a client makes and commands the server runs.

Shared by the worker's and the web app's round-trip tests (``tests/alerts/test_round_trips.py``,
``tests/test_web_round_trips.py``), which bound the warning path's Redis cost (issue 13).
"""

from __future__ import annotations

from typing import Any

import redis as redis_lib

# Sent on a new connection, or once a second per master (store.replication's replica count):
# not part of any one request or job.
HOUSEKEEPING = frozenset({"CLIENT", "HELLO", "AUTH", "SELECT", "PING", "INFO"})


def counting_client(url: str) -> tuple[redis_lib.Redis, list[str]]:
    """A client that notes the first command of every round trip it makes."""
    trips: list[str] = []

    class CountingConnection(redis_lib.Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            packed = b"".join(command) if isinstance(command, list) else command
            name = packed.split(b"\r\n")[2].decode().upper()
            if name not in HOUSEKEEPING:
                trips.append(name)
            super().send_packed_command(command, check_health)

    pool = redis_lib.ConnectionPool.from_url(url, decode_responses=True,
                                             connection_class=CountingConnection)
    return redis_lib.Redis(connection_pool=pool), trips


def commands_run(redis: redis_lib.Redis) -> int:
    """Commands the server ran since ``CONFIG RESETSTAT`` (script bodies' commands included)."""
    stats = redis.info("commandstats")
    return sum(int(v["calls"]) for name, v in stats.items()
               if name.removeprefix("cmdstat_").split("|")[0].upper() not in HOUSEKEEPING
               and not name.startswith(("cmdstat_config", "cmdstat_script")))
