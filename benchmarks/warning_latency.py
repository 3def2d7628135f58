"""Warning latency end to end, beside a direct wechatpy send measured in the same run.

Starts its own Redis, the WeChat simulator, the web app under gunicorn (``cli web``) and worker
processes (``cli worker``), registers followers through the simulator (real follow webhooks),
then:

1. floor: a direct wechatpy template send to the simulator at the same rate (what the platform
   costs without us);
2. warnings: single signed alerts POSTed at a sustained rate, each for a registered number; the
   latency of one warning is ``detected_at`` → the simulator's receipt of the template message
   (``received_at_ms`` in its inspection API): ingest, queue, worker, WeChat call;
3. ingest: batches of 1,000 alerts (numbers nobody registered) as fast as the web app takes them.

Lost and duplicate warnings are counted from the simulator's message log.

    .venv/bin/python benchmarks/warning_latency.py [--seconds 20] [--rate 200] [--workers 2]

Last line: JSON with p50_ms, p99_ms, floor_p99_ms, ratio, ingest_per_s, alerts, lost, duplicates.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.links import read_token  # noqa: E402
from alerts.signing import signed_headers  # noqa: E402
from benchmarks.harness import percentile, wait_http  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from sandbox.client import SandboxClient  # noqa: E402
from tests.servers import free_port, start_redis, stop  # noqa: E402

FOLLOWERS = 200
BATCH = 1000






def paced(total: int, rate: float, threads: int, send) -> None:
    """Open loop: item i is due at start + i/rate, whoever is free sends it."""
    start = time.time() + 0.3
    counter = iter(range(total))
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            send(i, due)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def all_templates(sbx: SandboxClient, since: int) -> list[dict]:
    found, cursor = [], since
    while True:
        page = sbx._call("GET", "sandbox/api/messages",
                         params={"kind": "template", "since": cursor, "limit": 10_000})
        found += page["messages"]
        if not page["messages"]:
            return found
        cursor = page["next_since"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ingest-batches", type=int, default=20)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-warnings-"))
    redis_proc, redis_port = start_redis(tmp / "redis")
    web_port, sbx_port = free_port(), free_port()
    sbx_url = f"http://127.0.0.1:{sbx_port}/"
    web_url = f"http://127.0.0.1:{web_port}"
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG), "PYTHONUNBUFFERED": "1",
           "ENDFRAUD_SERVICE__MODE": "demo", "ENDFRAUD_SERVICE__PORT": str(web_port),
           "ENDFRAUD_SERVICE__PUBLIC_URL": web_url, "ENDFRAUD_SERVICE__LOG_LEVEL": "WARNING",
           "ENDFRAUD_REDIS__URL": f"redis://127.0.0.1:{redis_port}/0",
           "ENDFRAUD_WECHAT__API_BASE_URL": sbx_url,
           "ENDFRAUD_SANDBOX__PORT": str(sbx_port), "ENDFRAUD_SANDBOX__CALLBACK_DELAY_MS": "50",
           "ENDFRAUD_SMS__PROVIDER": "sandbox", "ENDFRAUD_SMS__SANDBOX_URL": sbx_url,
           "ENDFRAUD_QUEUE__BLOCK_MS": "200"}
    config = load_config(EXAMPLE_CONFIG, environ=env, demo=True)
    with open(tmp / "processes.log", "wb") as out:
        exe = [sys.executable, "-m", "cli"]
        procs = [subprocess.Popen([*exe, "sandbox"], env=env, cwd=ROOT, stdout=out, stderr=out),
                 subprocess.Popen([*exe, "web"], env=env, cwd=ROOT, stdout=out, stderr=out)]
        procs += [subprocess.Popen([*exe, "worker"], env=env, cwd=ROOT, stdout=out, stderr=out)
                  for _ in range(args.workers)]
        try:
            wait_http(sbx_url + "sandbox/api/stats")
            wait_http(web_url + "/healthz")
            result = run(args, config, SandboxClient(sbx_url), web_url, redis_port)
        finally:
            stop([*procs, redis_proc])
    print(f"{'measure':<34} {'value':>12}")
    for name, value in (
        ("alerts sent (rate x seconds)", result["alerts"]),
        ("target alert rate /s", args.rate),
        ("warning p50 ms (detected->sim)", result["p50_ms"]),
        ("warning p99 ms (detected->sim)", result["p99_ms"]),
        ("floor p50 ms (direct wechatpy)", result["floor_p50_ms"]),
        ("floor p99 ms (direct wechatpy)", result["floor_p99_ms"]),
        ("ratio p99 / floor p99", result["ratio"]),
        ("ingest alerts/s (batches of 1000)", result["ingest_per_s"]),
        ("lost", result["lost"]), ("duplicates", result["duplicates"]),
    ):
        print(f"{name:<34} {value:>12}")
    print("targets: p99 <= 100 ms at 200 alerts/s for 60 s (--seconds 60); ingest >= 2000/s")
    print(json.dumps({k: result[k] for k in ("p50_ms", "p99_ms", "floor_p99_ms", "ratio",
                                             "ingest_per_s", "alerts", "lost", "duplicates")}))


def run(args: argparse.Namespace, config: Any, sbx: SandboxClient, web_url: str,
        redis_port: int) -> dict[str, Any]:
    import redis as redis_lib

    from bot.wechat import make_client
    from store.followers import FollowerDirectory
    from store.phones import PhoneVault

    r = redis_lib.Redis(port=redis_port, decode_responses=True)
    directory = FollowerDirectory(r, PhoneVault.from_config(config.privacy))
    phones = [f"1390000{i:04d}" for i in range(FOLLOWERS)]
    openids = []
    for phone in phones:
        openid = sbx.new_citizen()
        sbx.follow(openid)  # the real follow webhook creates the follower record
        directory.bind_own_phone(openid, phone)
        openids.append(openid)

    # 1. floor: direct template sends through wechatpy (our client, same config) to the simulator.
    wechat = make_client(config, r)
    floor_total = int(min(args.seconds, 10) * args.rate)
    floor_started: dict[int, float] = {}

    def send_direct(i: int, due: float) -> None:
        floor_started[i] = due
        wechat.message.send_template(openids[i % FOLLOWERS], config.wechat.warning_template_id,
                                     {"thing1": {"value": f"floor {i}"}})

    since = sbx.stats()["last_seq"]
    paced(floor_total, args.rate, 8, send_direct)
    floor = [m["received_at_ms"]
             - floor_started[int(m["payload"]["data"]["thing1"]["value"][6:])] * 1000
             for m in all_templates(sbx, since)]

    # 2. warnings at a sustained rate, one alert per request.
    source, _, key = config.alerts.source_keys[0].partition(":")
    total = int(args.seconds * args.rate)
    detected: dict[str, float] = {}
    failures: Counter[int] = Counter()
    session_local = threading.local()

    def post(body: bytes) -> int:
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        headers = signed_headers(source, key, body, time.time(), secrets.token_hex(8))
        return session.post(web_url + "/api/v1/alerts", data=body, headers=headers,
                            timeout=10).status_code

    def send_alert(i: int, due: float) -> None:
        alert_id = f"bench-{i}"
        detected[alert_id] = due
        body = json.dumps({"alert_id": alert_id, "phone": phones[i % FOLLOWERS],
                           "fraud_type": "police", "channel": "call",
                           "counterpart": f"+8526{i:07d}", "risk_level": "high",
                           "detected_at": due, "source": source}).encode()
        status = post(body)
        if status != 202:
            failures[status] += 1

    since = sbx.stats()["last_seq"]
    paced(total, args.rate, 16, send_alert)
    deadline = time.time() + 60
    warnings: list[dict] = []
    while time.time() < deadline:
        warnings = all_templates(sbx, since)
        if len(warnings) >= total:
            break
        time.sleep(0.5)
    time.sleep(1.0)
    warnings = all_templates(sbx, since)
    per_alert: Counter[str] = Counter()
    latencies = []
    for message in warnings:
        token = read_token(config.service.secret_key,
                           message["payload"]["url"].rsplit("/", 1)[1], time.time())
        if token is None:
            continue
        per_alert[token.alert_id] += 1
        if per_alert[token.alert_id] == 1:
            latencies.append(message["received_at_ms"] - detected[token.alert_id] * 1000)
    lost = sum(1 for alert_id in detected if per_alert[alert_id] == 0)
    duplicates = sum(n - 1 for n in per_alert.values() if n > 1)

    # 3. ingest in batches (numbers nobody registered: counted, not warned).
    batches = []
    for b in range(args.ingest_batches):
        batches.append(json.dumps([
            {"alert_id": f"ingest-{b}-{i}", "phone": f"1370{b:03d}{i:04d}",
             "fraud_type": "investment", "channel": "sms", "counterpart": "10690000",
             "risk_level": "low", "detected_at": time.time(), "source": source}
            for i in range(BATCH)]).encode())
    started = time.perf_counter()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def send_batch(i: int, _due: float) -> None:
        status = post(batches[i])
        with lock:
            statuses[status] += 1

    paced(len(batches), 1e9, 4, send_batch)
    ingest_per_s = len(batches) * BATCH / (time.perf_counter() - started)
    floor_p99 = percentile(floor, 0.99)
    p99 = percentile(latencies, 0.99)
    return {"p50_ms": round(percentile(latencies, 0.5), 1), "p99_ms": round(p99, 1),
            "floor_p50_ms": round(percentile(floor, 0.5), 1), "floor_p99_ms": round(floor_p99, 1),
            "ratio": round(p99 / floor_p99, 2) if floor_p99 else None,
            "ingest_per_s": round(ingest_per_s), "alerts": total, "lost": lost,
            "duplicates": duplicates, "post_failures": dict(failures),
            "ingest_statuses": dict(statuses)}


if __name__ == "__main__":
    main()
