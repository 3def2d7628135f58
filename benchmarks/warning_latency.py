"""Warning latency end to end, beside a direct wechatpy send measured in the same run.

Starts its own Redis, the WeChat simulator, the web app under gunicorn (``cli web``) and worker
processes (``cli worker``), registers followers through the simulator (real follow webhooks),
then:

1. floor: a direct wechatpy template send to the simulator at the same rate (what the platform
   costs without us);
2. warnings: single signed alerts POSTed at a sustained rate, each for a registered number; the
   latency of one warning is ``detected_at`` → the simulator's receipt of the template message
   (``received_at_ms`` in its inspection API): ingest, queue, worker, WeChat call;
3. capacity: the rate stepped up (``--steps``, ``--step-seconds`` each) until p99 passes
   100 ms or warnings go missing; ``capacity_per_s`` is the highest step that held;
4. ingest: batches of 1,000 alerts (numbers nobody registered) as fast as the web app takes them.

Lost and duplicate warnings are counted from the simulator's message log. CPU per warning comes
from ``/proc/<pid>/stat`` (utime + stime of each process and its children) before and after
phase 2: web (gunicorn master and workers), worker processes, Redis.

    .venv/bin/python benchmarks/warning_latency.py [--seconds 20] [--rate 200] [--workers 2]
        [--steps 100,150,200,250,300] [--step-seconds 10]

Last line: JSON with p50_ms, p99_ms, floor_p99_ms, ratio, ingest_per_s, alerts, lost, duplicates,
capacity_per_s, cpu_ms_per_warning {web, worker, redis, simulator, load_generator}: the last two
stand in for WeChat and the warning platform, which are not on our machines in production, but
share the same two cores here.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.links import read_token  # noqa: E402
from alerts.signing import signed_headers  # noqa: E402
from benchmarks.harness import cpu_ms, paced, percentile, wait_http  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from sandbox.client import SandboxClient  # noqa: E402
from sandbox.keepalive import KeepAlive  # noqa: E402
from tests.servers import free_port, start_redis, stop  # noqa: E402

FOLLOWERS = 200
BATCH = 1000
P99_TARGET_MS = 100.0








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
    parser.add_argument("--steps", default="",
                        help="rates to step through for capacity_per_s, e.g. 100,150,200,250")
    parser.add_argument("--step-seconds", type=float, default=10.0)
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
           # The queues' own block_ms (config.example.toml): a shorter one only adds empty
           # reads of the idle queues (bot, broadcasts, screenshots) to the shared cores.
           "ENDFRAUD_SMS__PROVIDER": "sandbox", "ENDFRAUD_SMS__SANDBOX_URL": sbx_url}
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
            roles = {"web": [procs[1].pid], "worker": [p.pid for p in procs[2:]],
                     "redis": [redis_proc.pid], "simulator": [procs[0].pid]}
            result = run(args, config, SandboxClient(sbx_url), web_url, redis_port, roles)
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
        *((f"cpu ms/warning {role}", ms) for role, ms in result["cpu_ms_per_warning"].items()),
        ("capacity /s (p99 <= 100 ms)", result["capacity_per_s"]),
    ):
        print(f"{name:<34} {'-' if value is None else value:>12}")
    for step in result["steps"]:
        print(f"  step {step['rate']:>5.0f}/s  p50 {step['p50_ms']:>8} ms"
              f"  p99 {step['p99_ms']:>8} ms"
              f"  lost {step['lost']}")
    print("targets: p99 <= 100 ms at 200 alerts/s for 60 s (--seconds 60); ingest >= 2000/s")
    print(json.dumps({k: result[k] for k in ("p50_ms", "p99_ms", "floor_p99_ms", "ratio",
                                             "ingest_per_s", "alerts", "lost", "duplicates",
                                             "capacity_per_s", "cpu_ms_per_warning")}))


def run(args: argparse.Namespace, config: Any, sbx: SandboxClient, web_url: str,
        redis_port: int, roles: dict[str, list[int]]) -> dict[str, Any]:
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
    platform = KeepAlive(timeout_s=10.0)

    def post(body: bytes) -> int:
        headers = signed_headers(source, key, body, time.time(), secrets.token_hex(8))
        return platform.post(web_url + "/api/v1/alerts", body, headers)[0]

    def warnings_at(rate: float, seconds: float, prefix: str) -> dict[str, Any]:
        total = int(seconds * rate)
        detected: dict[str, float] = {}
        failures: Counter[int] = Counter()

        def send_alert(i: int, due: float) -> None:
            alert_id = f"{prefix}-{i}"
            detected[alert_id] = due
            body = json.dumps({"alert_id": alert_id, "phone": phones[i % FOLLOWERS],
                               "fraud_type": "police", "channel": "call",
                               "counterpart": f"+8526{i:07d}", "risk_level": "high",
                               "detected_at": due, "source": source}).encode()
            status = post(body)
            if status != 202:
                failures[status] += 1

        since = sbx.stats()["last_seq"]
        paced(total, rate, 32, send_alert)
        deadline = time.time() + 60
        while time.time() < deadline:
            if len(all_templates(sbx, since)) >= total:
                break
            time.sleep(0.5)
        time.sleep(1.0)
        per_alert: Counter[str] = Counter()
        latencies = []
        for message in all_templates(sbx, since):
            token = read_token(config.service.secret_key,
                               message["payload"]["url"].rsplit("/", 1)[1], time.time())
            if token is None or token.alert_id not in detected:
                continue
            per_alert[token.alert_id] += 1
            if per_alert[token.alert_id] == 1:
                latencies.append(message["received_at_ms"] - detected[token.alert_id] * 1000)
        return {"rate": rate, "alerts": total, "latencies": latencies,
                "lost": sum(1 for alert_id in detected if per_alert[alert_id] == 0),
                "duplicates": sum(n - 1 for n in per_alert.values() if n > 1),
                "p50_ms": round(percentile(latencies, 0.5), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
                "post_failures": dict(failures)}

    cpu_before = {role: sum(cpu_ms(pid) for pid in pids) for role, pids in roles.items()}
    cpu_before["load_generator"] = time.process_time() * 1000
    main = warnings_at(args.rate, args.seconds, "bench")
    cpu_after = {role: sum(cpu_ms(pid) for pid in pids) for role, pids in roles.items()}
    cpu_after["load_generator"] = time.process_time() * 1000
    warned = max(main["alerts"] - main["lost"], 1)
    cpu_per_warning = {role: round((cpu_after[role] - cpu_before[role]) / warned, 2)
                       for role in cpu_before}
    latencies, total = main["latencies"], main["alerts"]
    lost, duplicates, failures = main["lost"], main["duplicates"], main["post_failures"]

    # 3. capacity: step the rate up until p99 passes the target or warnings go missing.
    steps, capacity = [], 0.0
    for n, rate in enumerate(float(r) for r in args.steps.split(",") if r.strip()):
        step = warnings_at(rate, args.step_seconds, f"step{n}")
        steps.append({k: v for k, v in step.items() if k != "latencies"})
        if step["p99_ms"] > P99_TARGET_MS or step["lost"] or step["duplicates"]:
            break
        capacity = rate
    # 4. ingest in batches (numbers nobody registered: counted, not warned).
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
            "ingest_statuses": dict(statuses), "cpu_ms_per_warning": cpu_per_warning,
            "capacity_per_s": capacity if steps else None, "steps": steps}


if __name__ == "__main__":
    main()
