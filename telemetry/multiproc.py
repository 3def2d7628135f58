"""Setting up prometheus_client's multiprocess mode for the gunicorn web server.

Kept apart from ``telemetry.exposition`` because it must run before prometheus_client is
imported at all: the library picks file-backed or in-memory values once, at import, from
``PROMETHEUS_MULTIPROC_DIR``; gunicorn workers forked from a master that imported it too early
would count in memory, and ``/metrics`` would show each worker nothing but the shared directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty ``path`` (files of an earlier run would be summed in) and point prometheus_client
    at it. Call first thing in ``endfraud web``, before gunicorn loads the app."""
    if "prometheus_client.values" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its multiprocess directory "
                           "was set; its values would stay in memory")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)


def mark_worker_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook: drop the live gauges of an exited worker."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
