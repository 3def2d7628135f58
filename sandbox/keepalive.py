"""POSTs over one keep-alive ``http.client`` connection per thread and host.

Plain ``http.client``, not requests: the simulator stands in for WeChat, and the benchmarks'
load generator for the warning platform, neither of which runs on our machines in production;
requests re-reads the environment (proxies, netrc) on every call, about a millisecond of CPU
the warning benchmark would charge to the cores it shares with the system under test.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import SplitResult, urlsplit

# What reusing a connection the server closed while it sat idle raises (gunicorn closes idle
# keep-alive connections after a few seconds): the request never reached the server.
STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KeepAlive:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._local = threading.local()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) of one POST. A stale kept-alive connection is replaced and the POST
        sent once more; any other failure raises (and the connection is not reused)."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reused = parts.netloc in self._connections()
        try:
            return self._post_once(parts, target, body, headers)
        except STALE_CONNECTION:
            if not reused:
                raise
            return self._post_once(parts, target, body, headers)

    def _connections(self) -> dict[str, http.client.HTTPConnection]:
        found: dict[str, http.client.HTTPConnection] | None = getattr(self._local, "by_host", None)
        if found is None:
            found = self._local.by_host = {}
        return found

    def _post_once(self, parts: SplitResult, target: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, bytes]:
        connections = self._connections()
        connection = connections.get(parts.netloc)
        if connection is None:
            kind = (http.client.HTTPSConnection if parts.scheme == "https"
                    else http.client.HTTPConnection)
            connection = connections[parts.netloc] = kind(parts.netloc, timeout=self.timeout_s)
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except BaseException:
            # A broken or timed-out connection is not reused: the next call opens a new one.
            connection.close()
            del connections[parts.netloc]
            raise
