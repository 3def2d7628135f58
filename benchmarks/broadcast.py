"""Broadcast dispatch at scale: N followers in Redis, one broadcast to all, one to a community.

Starts its own Redis, WeChat simulator and web app (for MASSSENDJOBFINISH) on free loopback ports,
writes N follower records straight into FollowerDirectory's bucketed hashes with pipelines, then
runs each broadcast's dispatcher as its own process (``python -m broadcasts.dispatch <run>``,
exactly what a worker runs) and measures wall time and that process's peak RSS (wait4 rusage).

    .venv/bin/python benchmarks/broadcast.py [--followers 1000000] [--communities 10]

Last line: JSON with followers, dispatch_s, dispatcher_peak_rss_mb, bytes_per_follower,
batches, duplicate_batches (mass-send calls WeChat accepted beyond one per batch).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis as redis_lib
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import wait_http  # noqa: E402
from broadcasts import store as bc_store  # noqa: E402
from broadcasts.model import Broadcast  # noqa: E402
from broadcasts.runs import start_run  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from store import keys  # noqa: E402
from store.followers import Follower  # noqa: E402
from tests import servers  # noqa: E402

OPENID_CHARS = string.ascii_letters + string.digits + "_-"


def _openid(rng: random.Random) -> str:
    return "o" + "".join(rng.choices(OPENID_CHARS, k=27))  # WeChat openids are 28 characters


def write_followers(r: redis_lib.Redis, count: int, communities: int) -> None:
    rng = random.Random(7)
    now = int(time.time())
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        openid = _openid(rng)
        follower = Follower(openid, True, now, f"o{i % 50}", f"c{i % communities}", "")
        pipe.hset(keys.follower_records(openid), openid, follower.pack())
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()




def run_dispatcher(env: dict[str, str], run_id: str) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one dispatcher process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "broadcasts.dispatch", run_id], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"dispatcher for {run_id} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=10)
    args = parser.parse_args()

    procs: list[subprocess.Popen[Any]] = []
    tmp = tempfile.TemporaryDirectory(prefix="bench-broadcast-")
    try:
        redis_proc, redis_port = servers.start_redis(Path(tmp.name) / "redis")
        procs.append(redis_proc)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        sandbox_port, web_port = servers.free_port(), servers.free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}/"
        env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
               "ENDFRAUD_SERVICE__MODE": "demo", "ENDFRAUD_REDIS__URL": redis_url,
               "ENDFRAUD_WECHAT__API_BASE_URL": sandbox_url,
               "ENDFRAUD_SANDBOX__PORT": str(sandbox_port),
               "ENDFRAUD_SERVICE__PORT": str(web_port), "ENDFRAUD_SERVICE__WEB_WORKERS": "1",
               "ENDFRAUD_SERVICE__PUBLIC_URL": f"http://127.0.0.1:{web_port}",
               "ENDFRAUD_SERVICE__LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
        for role in ("sandbox", "web"):
            procs.append(subprocess.Popen([sys.executable, "-m", "cli", role], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_http(sandbox_url + "sandbox/api/account")
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        config = load_config(EXAMPLE_CONFIG, environ=env, demo=True)
        r = redis_lib.Redis.from_url(redis_url, decode_responses=True)

        base_memory = int(r.info("memory")["used_memory"])
        started = time.perf_counter()
        write_followers(r, args.followers, args.communities)
        write_s = time.perf_counter() - started
        bytes_per_follower = (int(r.info("memory")["used_memory"]) - base_memory) / args.followers

        results: dict[str, dict[str, Any]] = {}
        for name, audience in (("all", {"kind": "all"}),
                               ("community", {"kind": "communities", "ids": ["c3"]})):
            broadcast = bc_store.save(r, Broadcast(
                id=bc_store.new_broadcast_id(), title=f"bench {name}",
                articles=("shuadan-basics",), audience=audience,
                schedule={"kind": "once", "at": "2030-01-01T09:00:00+08:00"}))
            now = time.time()
            run_id = start_run(config, r, broadcast.id, now, now, trigger="manual")
            seconds, rss_mb = run_dispatcher(env, run_id)
            run = bc_store.get_run(r, run_id) or {}
            results[name] = {"seconds": seconds, "rss_mb": rss_mb, "run": run}

        time.sleep(1.0)  # let the last MASSSENDJOBFINISH callbacks land
        stats = requests.get(sandbox_url + "sandbox/api/stats", timeout=10).json()
        batches_total = sum(v["run"]["batches_sent"] for v in results.values())
        mass_calls = int(stats["api_calls"].get("message/mass/send", 0)) + int(
            stats["api_calls"].get("message/mass/sendall", 0))
        repeated = sum(1 for v in results.values()
                       for b in bc_store.run_batches(r, v["run"]["run_id"]) if b["repeated"])
        duplicate_batches = max(mass_calls - batches_total - repeated, 0)
        finish = {k: (bc_store.get_run(r, v["run"]["run_id"]) or {}).get("finish_events", 0)
                  for k, v in results.items()}

        print(f"followers written: {args.followers:,} in {write_s:.1f} s "
              f"({bytes_per_follower:.0f} bytes/follower in Redis)")
        print(f"{'broadcast':<11}{'audience':>10}{'batches':>9}{'dispatch s':>12}"
              f"{'peak RSS MB':>13}{'finish events':>15}{'status':>12}")
        for name, v in results.items():
            run = v["run"]
            print(f"{name:<11}{run['audience_count']:>10,}{run['batches_sent']:>9}"
                  f"{v['seconds']:>12.1f}{v['rss_mb']:>13.1f}{finish[name]:>15}"
                  f"{run['status']:>12}")
        print(f"mass-send calls accepted: {mass_calls}, duplicate batches: {duplicate_batches}")
        print(json.dumps({
            "followers": args.followers,
            "dispatch_s": round(results["all"]["seconds"], 2),
            "dispatcher_peak_rss_mb": round(max(v["rss_mb"] for v in results.values()), 1),
            "bytes_per_follower": round(bytes_per_follower, 1),
            "batches": results["all"]["run"]["batches_sent"],
            "duplicate_batches": duplicate_batches,
            "community_dispatch_s": round(results["community"]["seconds"], 2),
            "community_batches": results["community"]["run"]["batches_sent"],
            "community_dispatcher_peak_rss_mb": round(results["community"]["rss_mb"], 1),
        }))
        return 0
    finally:
        servers.stop(list(reversed(procs)))
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
