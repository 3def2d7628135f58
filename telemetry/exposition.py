"""Serving metrics: each process its own, as Prometheus expects.

- Web: gunicorn runs several worker processes; prometheus_client's multiprocess mode has each
  write its values to files in one directory (``PROMETHEUS_MULTIPROC_DIR``), and whichever worker
  answers ``/metrics`` adds them up. ``endfraud web`` empties the directory on start (files left
  by a previous run would be summed in) and marks each exited gunicorn worker dead
  (``telemetry.multiproc``). https://prometheus.github.io/client_python/multiprocess/
- Worker and scheduler: one process each, so the default registry on a small HTTP server of its
  own (``--metrics-port``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Chain(Collector):
    """Several collectors read as one registry, in order."""

    def __init__(self, collectors: Iterable[Any]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def render(multiprocess_dir: str | None, extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition: this process's metrics (or, under gunicorn, all workers'), then
    ``extra`` collectors read at scrape time (e.g. queue depths)."""
    if multiprocess_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        collector = multiprocess.MultiProcessCollector  # untyped in prometheus_client
        collector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        base: Any = registry
    else:
        base = REGISTRY
    return generate_latest(_Chain([base, *extra]))


def serve(host: str, port: int) -> Any:
    """Serve the default registry on ``http://host:port/metrics`` from a daemon thread; returns
    the server (``shutdown()`` stops it)."""
    server, _thread = start_http_server(port, addr=host)
    return server
