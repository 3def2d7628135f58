"""A dispatcher killed between batches: the run resumes and no batch goes out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from broadcasts import store
from config import EXAMPLE_CONFIG
from store import keys
from tests.broadcasts.conftest import BroadcastEnv

ROOT = Path(__file__).resolve().parents[2]


def _dispatcher_process(bc_env: BroadcastEnv, run_id: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
           "ENDFRAUD_SERVICE__MODE": "demo",
           "ENDFRAUD_REDIS__URL": bc_env.config.redis.url,
           "ENDFRAUD_WECHAT__API_BASE_URL": bc_env.sandbox_url,
           "ENDFRAUD_QUEUE__RECLAIM_IDLE_S": "1",
           "ENDFRAUD_BROADCAST__BATCH_SIZE": "2",
           "ENDFRAUD_BROADCAST__MASS_CALLS_PER_S": "4"}
    return subprocess.Popen([sys.executable, "-m", "broadcasts.dispatch", run_id], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_killed_dispatcher_resumes_without_sending_any_batch_twice(bc_env: BroadcastEnv) -> None:
    openids = bc_env.followers(12)
    run_id = bc_env.start(bc_env.broadcast())
    process = _dispatcher_process(bc_env, run_id)
    deadline = time.monotonic() + 20
    while bc_env.sandbox.stats()["api_calls"].get("message/mass/send", 0) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = store.get_run(bc_env.redis, run_id) or {}
    assert interrupted["status"] == "dispatching" and interrupted["batches_sent"] < 6
    while bc_env.redis.exists(keys.broadcast_run_lock(run_id)):  # the dead holder's lock lapses
        assert time.monotonic() < deadline
        time.sleep(0.05)

    run = bc_env.dispatcher(batch_size=2).dispatch(run_id)

    assert run["status"] == "dispatched" and run["batches_sent"] == 6
    assert Counter(m["openid"] for m in bc_env.mass_messages()) == Counter(
        dict.fromkeys(openids, 1))
    assert bc_env.sandbox.stats()["duplicates"].get("mass", 0) == 0
