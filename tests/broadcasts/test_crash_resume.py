"""A dispatcher killed between batches: the run resumes and no batch goes out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from broadcasts import store
from config import EXAMPLE_CONFIG
from store import keys
from tests.broadcasts.conftest import BroadcastEnv
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
MASS_SEND = "message/mass/send"


def _dispatcher_process(bc_env: BroadcastEnv, run_id: str,
                        mass_calls_per_s: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
           "ENDFRAUD_SERVICE__MODE": "demo",
           "ENDFRAUD_REDIS__URL": bc_env.config.redis.url,
           "ENDFRAUD_WECHAT__API_BASE_URL": bc_env.sandbox_url,
           # Longer than any hang the simulator is told to make: the process is killed in the
           # call, it never gives up on it.
           "ENDFRAUD_WECHAT__TIMEOUT_S": "60", "ENDFRAUD_ALERTS__UNCONFIRMED_RESEND_S": "60",
           "ENDFRAUD_QUEUE__RECLAIM_IDLE_S": "1",
           "ENDFRAUD_BROADCAST__BATCH_SIZE": "2",
           "ENDFRAUD_BROADCAST__MASS_CALLS_PER_S": str(mass_calls_per_s)}
    return subprocess.Popen([sys.executable, "-m", "broadcasts.dispatch", run_id], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _mass_calls(bc_env: BroadcastEnv) -> int:
    return int(bc_env.sandbox.stats()["api_calls"].get(MASS_SEND, 0))


def _kill_after_mass_calls(bc_env: BroadcastEnv, process: subprocess.Popen[bytes],
                           calls: int) -> None:
    def reached() -> bool:
        assert process.poll() is None, "the dispatcher ended before it could be killed"
        return _mass_calls(bc_env) >= calls

    wait_until(reached, what=f"{calls} mass-send calls")
    process.send_signal(signal.SIGKILL)
    process.wait()


def _wait_for_the_dead_holders_lock_to_lapse(bc_env: BroadcastEnv, run_id: str) -> None:
    wait_until(lambda: not bc_env.redis.exists(keys.broadcast_run_lock(run_id)),
               what="the killed dispatcher's run lock to lapse")


def test_killed_dispatcher_resumes_without_sending_any_batch_twice(bc_env: BroadcastEnv) -> None:
    openids = bc_env.followers(12)
    run_id = bc_env.start(bc_env.broadcast())
    # One call a second: after the second call the rest needs four more seconds, so the kill
    # always lands mid-run however slowly this test is scheduled.
    process = _dispatcher_process(bc_env, run_id, mass_calls_per_s=1)
    _kill_after_mass_calls(bc_env, process, 2)
    interrupted = store.get_run(bc_env.redis, run_id) or {}
    assert interrupted["status"] == "dispatching" and interrupted["batches_sent"] < 6
    _wait_for_the_dead_holders_lock_to_lapse(bc_env, run_id)

    run = bc_env.dispatcher(batch_size=2).dispatch(run_id)

    assert run["status"] == "dispatched" and run["batches_sent"] == 6
    assert Counter(m["openid"] for m in bc_env.mass_messages()) == Counter(
        dict.fromkeys(openids, 1))
    assert bc_env.sandbox.stats()["duplicates"].get("mass", 0) == 0


def test_dispatcher_killed_while_wechat_holds_its_batch_resumes_without_sending_it_twice(
        bc_env: BroadcastEnv) -> None:
    openids = bc_env.followers(12)
    run_id = bc_env.start(bc_env.broadcast())
    # The first mass send goes through; the second is held in the simulator, and WeChat sends
    # it only after the dispatcher that asked for it is dead: it never learns the outcome.
    bc_env.sandbox.set_fault(api=MASS_SEND, fault="hang", hang_ms=0)
    bc_env.sandbox.set_fault(api=MASS_SEND, fault="hang", hang_ms=5000)
    process = _dispatcher_process(bc_env, run_id, mass_calls_per_s=1000)
    _kill_after_mass_calls(bc_env, process, 2)
    interrupted = store.get_run(bc_env.redis, run_id) or {}
    assert interrupted["batches_sent"] == 1 and interrupted["inflight"]["batch"] == 1
    wait_until(lambda: len(bc_env.mass_messages()) == 4, what="the held batch to go out")
    _wait_for_the_dead_holders_lock_to_lapse(bc_env, run_id)

    run = bc_env.dispatcher(batch_size=2).dispatch(run_id)

    assert run["status"] == "dispatched" and run["batches_sent"] == 6
    assert [b["repeated"] for b in store.run_batches(bc_env.redis, run_id)] == [
        False, True, False, False, False, False]
    assert Counter(m["openid"] for m in bc_env.mass_messages()) == Counter(
        dict.fromkeys(openids, 1))
    assert bc_env.sandbox.stats()["duplicates"].get("mass", 0) == 0
    # The report still holds every batch's finish totals, the held batch's included.
    run = wait_until(lambda: (r := store.get_run(bc_env.redis, run_id)) and
                     r["finish_events"] == 6 and r, what="six MASSSENDJOBFINISH events")
    assert (run["total_count"], run["sent_count"], run["error_count"]) == (12, 12, 0)

