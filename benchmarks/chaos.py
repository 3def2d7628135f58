"""Chaos on a Redis Cluster: warnings and a broadcast through a master failover and two crashes.

Starts a 3-master + 3-replica cluster (``cluster-node-timeout`` 2000 ms), the WeChat simulator
(in this process, so it can know 10,000+ followers without 10,000 HTTP calls), 2 web processes,
3 workers and 2 schedulers (``cli web|worker|scheduler``, as ``endfraud demo --cluster`` runs
them). While signed alerts flow at ``--rate``/s for registered followers and a broadcast to
``--audience`` followers is dispatching, it

1. SIGKILLs the master holding the warnings stream (its replica takes over),
2. SIGKILLs a worker (mid-send: workers are busy warning at that rate),
3. SIGKILLs the leading scheduler,

then waits for the dust to settle and counts, in the simulator's message log, what reached the
phones. The platform side retries a 503 or a refused connection with the same ``alert_id`` (the
contract in docs/alerts.md), so every alert is eventually accepted.

    .venv/bin/python benchmarks/chaos.py [--seconds 30] [--rate 50] [--audience 10000]

Last line: JSON with ``lost`` (accepted alerts that warned nobody), ``duplicates`` (extra
warnings beyond one per alert and recipient), ``duplicate_batches`` (mass sends WeChat accepted
beyond one per batch, plus followers who got the broadcast twice), ``failover_s`` (master kill →
its replica serves as master), ``p99_ms_during_failover`` (warning latency, detected →
simulator, of alerts detected between the kill and the end of the failover),
``scheduler_takeover_s`` and the lease it must beat.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis as redis_lib
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.links import read_token  # noqa: E402
from alerts.signing import signed_headers  # noqa: E402
from benchmarks.harness import paced, percentile, wait_http  # noqa: E402
from config import EXAMPLE_CONFIG, Config, load_config  # noqa: E402
from store import keys, local_cluster  # noqa: E402
from store.followers import Follower, FollowerDirectory  # noqa: E402
from store.phones import PhoneVault  # noqa: E402
from tests import servers  # noqa: E402

OPENID_CHARS = string.ascii_letters + string.digits + "_-"
NODE_TIMEOUT_MS = 2000
RETRY_FOR_S = 120.0
SETTLE_TIMEOUT_S = 150.0


def _openid(rng: random.Random) -> str:
    return "o" + "".join(rng.choices(OPENID_CHARS, k=27))


class Platform:
    """The warning platform: signed alerts at a fixed rate, each retried until accepted."""

    def __init__(self, config: Config, web_urls: list[str], phones: list[str]) -> None:
        self.source, _, self.key = config.alerts.source_keys[0].partition(":")
        self.web_urls = web_urls
        self.phones = phones
        self.detected: dict[str, float] = {}
        self.accepted: dict[str, float] = {}
        self.retries = Counter[str]()
        self._local = threading.local()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def send(self, i: int, due: float) -> None:
        alert_id = f"chaos-{i}"
        self.detected[alert_id] = due
        body = json.dumps({"alert_id": alert_id, "phone": self.phones[i % len(self.phones)],
                           "fraud_type": "police", "channel": "call",
                           "counterpart": f"+8526{i:07d}", "risk_level": "medium",
                           "detected_at": due, "source": self.source}).encode()
        deadline = time.time() + RETRY_FOR_S
        attempt = 0
        while time.time() < deadline:
            url = self.web_urls[(i + attempt) % len(self.web_urls)]
            headers = signed_headers(self.source, self.key, body, time.time(),
                                     secrets.token_hex(8))
            try:
                status = self._session().post(url + "/api/v1/alerts", data=body,
                                              headers=headers, timeout=10).status_code
            except requests.RequestException:
                status = 0
            if status in (200, 202):
                with self._lock:
                    self.accepted[alert_id] = time.time()
                return
            attempt += 1
            with self._lock:
                self.retries[str(status)] += 1
            time.sleep(0.2)




def _environment(config_overrides: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG), "PYTHONUNBUFFERED": "1",
           "ENDFRAUD_SERVICE__MODE": "demo", "ENDFRAUD_SERVICE__LOG_LEVEL": "WARNING",
           "ENDFRAUD_SERVICE__WEB_WORKERS": "1", "ENDFRAUD_REDIS__CLUSTER": "true",
           "ENDFRAUD_SMS__PROVIDER": "sandbox",
           # A killed worker's jobs come back after 5 s, an unknown send outcome is settled
           # (receipt found, or re-sent) after 6 s: short enough to finish inside the run.
           "ENDFRAUD_QUEUE__RECLAIM_IDLE_S": "5", "ENDFRAUD_QUEUE__BLOCK_MS": "200",
           "ENDFRAUD_WECHAT__TIMEOUT_S": "3", "ENDFRAUD_ALERTS__UNCONFIRMED_RESEND_S": "6",
           "ENDFRAUD_ALERTS__SEND_ATTEMPTS": "3",
           # 20 batches at 2 mass calls a second: the broadcast is on its way through the chaos.
           "ENDFRAUD_BROADCAST__BATCH_SIZE": "500", "ENDFRAUD_BROADCAST__MASS_CALLS_PER_S": "2"}
    env.update(config_overrides)
    return env


def _write_audience(r: Any, count: int, state: Any, now: int) -> None:
    rng = random.Random(11)
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        openid = _openid(rng)
        state.create_citizen(openid)
        state.follow(openid)
        pipe.hset(keys.follower_records(openid), openid,
                  Follower(openid, True, now, "", "c-chaos", "").pack())
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def _register_recipients(r: Any, config: Config, state: Any, count: int) -> list[str]:
    directory = FollowerDirectory(r, PhoneVault.from_config(config.privacy))
    phones = []
    for i in range(count):
        openid = state.create_citizen().openid
        state.follow(openid)
        directory.save(Follower(openid, True, int(time.time()), "", "c-alerts", ""))
        phone = f"1390001{i:04d}"
        directory.bind_own_phone(openid, phone)
        phones.append(phone)
    return phones


def _role(port: int) -> str:
    try:
        return str(redis_lib.Redis(port=port, socket_timeout=0.5).info("replication")["role"])
    except redis_lib.RedisError:
        return "down"


def run(seconds: float = 30.0, rate: float = 50.0, audience: int = 10_000,
        recipients: int = 100, verbose: bool = True) -> dict[str, Any]:
    from broadcasts import store as bc_store
    from broadcasts.model import Broadcast
    from broadcasts.runs import start_run
    from sandbox.server import create_app as create_sandbox
    from scheduler.process import LEASE_MS, RENEW_EVERY_S

    def say(text: str) -> None:
        if verbose:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per simulator call
    tmp = Path(tempfile.mkdtemp(prefix="chaos-"))
    redis_procs, ports = servers.start_cluster(tmp / "cluster", masters=3, replicas=1,
                                               node_timeout_ms=NODE_TIMEOUT_MS)
    victim_port = local_cluster.master_of_key(ports, keys.queue_stream("warnings"))
    assert victim_port is not None
    victim_replica = _replica_of(ports, victim_port)
    entry_port = next(p for p in ports[:3] if p != victim_port)
    web_ports = [servers.free_port(), servers.free_port()]
    sandbox_port = servers.free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/"
    web_urls = [f"http://127.0.0.1:{p}" for p in web_ports]
    env = _environment({
        "ENDFRAUD_REDIS__URL": f"redis://127.0.0.1:{entry_port}/0",
        "ENDFRAUD_SERVICE__PORT": str(web_ports[0]), "ENDFRAUD_SERVICE__PUBLIC_URL": web_urls[0],
        "ENDFRAUD_WECHAT__API_BASE_URL": sandbox_url, "ENDFRAUD_SANDBOX__PORT": str(sandbox_port),
        "ENDFRAUD_SMS__SANDBOX_URL": sandbox_url})
    config = load_config(EXAMPLE_CONFIG, environ=env, demo=True)
    sandbox_app = create_sandbox(config, webhook_url=web_urls[0] + "/wechat",
                                 max_messages=1_000_000)
    sandbox_server, _ = servers.serve_wsgi(sandbox_app, sandbox_port)
    state = sandbox_app.extensions["sandbox"].state
    r = redis_lib.RedisCluster(host="127.0.0.1", port=entry_port, decode_responses=True)
    log = open(tmp / "processes.log", "wb")  # noqa: SIM115 - shared by every child, closed below
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(name: str, role: str, extra: dict[str, str] | None = None) -> None:
        procs[name] = subprocess.Popen([sys.executable, "-m", "cli", role], cwd=ROOT,
                                       env={**env, **(extra or {})}, stdout=log, stderr=log)

    try:
        say(f"cluster up: masters {ports[:3]}, replicas {ports[3:]}; "
            f"warnings stream on {victim_port} (replica {victim_replica})")
        _write_audience(r, audience, state, int(time.time()))
        phones = _register_recipients(r, config, state, recipients)
        say(f"{audience} broadcast followers and {recipients} alert recipients registered")
        start("web0", "web")
        start("web1", "web", {"ENDFRAUD_SERVICE__PORT": str(web_ports[1])})
        for i in range(3):
            start(f"worker{i}", "worker")
        start("scheduler0", "scheduler")
        _wait(lambda: r.get(keys.scheduler_leader()) is not None, 30, "no scheduler leads")
        first_leader = r.get(keys.scheduler_leader())
        start("scheduler1", "scheduler")
        for url in web_urls:
            wait_http(url + "/healthz")
        broadcast = bc_store.save(r, Broadcast(
            id=bc_store.new_broadcast_id(), title="chaos", articles=("shuadan-basics",),
            audience={"kind": "communities", "ids": ["c-chaos"]},
            schedule={"kind": "once", "at": "2030-01-01T09:00:00+08:00"}))

        platform = Platform(config, web_urls, phones)
        total = int(seconds * rate)
        since = int(state.stats()["last_seq"])
        events: dict[str, float] = {}
        failover: dict[str, float] = {}
        takeover: dict[str, Any] = {}

        def chaos() -> None:
            time.sleep(1.0)
            now = time.time()
            start_run(config, r, broadcast.id, now, now, trigger="manual")
            say("broadcast run started")
            time.sleep(3.0)
            events["master_killed"] = time.time()
            redis_procs[ports.index(victim_port)].send_signal(signal.SIGKILL)
            say(f"SIGKILL redis master {victim_port}")
            threading.Thread(target=watch_failover, daemon=True).start()
            time.sleep(2.0)
            events["worker_killed"] = time.time()
            procs["worker0"].send_signal(signal.SIGKILL)
            say("SIGKILL worker0")
            time.sleep(2.0)
            events["scheduler_killed"] = time.time()
            procs["scheduler0"].send_signal(signal.SIGKILL)
            say("SIGKILL scheduler0 (the leader)")
            takeover.update(zip(("found", "seconds"), _wait_new_leader(
                r, first_leader, events["scheduler_killed"]), strict=True))
            say(f"new scheduler leads {takeover['seconds']:.1f} s after the leader's death"
                if takeover["found"] else "no new scheduler took over")

        def watch_failover() -> None:
            while time.time() - events["master_killed"] < 60:
                if _role(victim_replica) == "master":
                    failover["done"] = time.time()
                    say(f"replica {victim_replica} is master after "
                        f"{failover['done'] - events['master_killed']:.1f} s")
                    return
                time.sleep(0.05)

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        paced(total, rate, 24, platform.send)
        chaos_thread.join()
        say(f"{len(platform.accepted)}/{total} alerts accepted "
            f"(retries by status: {dict(platform.retries)})")


        def settled() -> bool:
            warned = _warned_alerts(state, config, since)
            run = bc_store.get_run(r, _only_run(r, bc_store, broadcast.id)) or {}
            return (all(a in warned for a in platform.accepted)
                    and run.get("status") in bc_store.FINISHED_STATUSES)

        _wait(settled, SETTLE_TIMEOUT_S, None)
        time.sleep(2.0)  # anything still in flight would show up as a duplicate now
        result = _count(state, config, since, platform, events, failover, r, bc_store,
                        broadcast.id)
        result["scheduler_took_over"] = bool(takeover.get("found"))
        result["scheduler_takeover_s"] = round(float(takeover.get("seconds", float("nan"))), 1)
        result["scheduler_lease_s"] = LEASE_MS / 1000 + RENEW_EVERY_S
        return result
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sandbox_app.extensions["sandbox"].webhook.close()
        sandbox_server.shutdown()
        servers.stop(redis_procs)
        log.close()


def _replica_of(ports: list[int], master_port: int) -> int:
    for port in ports:
        info = redis_lib.Redis(port=port).info("replication")
        if info["role"] == "slave" and int(info["master_port"]) == master_port:
            return port
    raise RuntimeError(f"master {master_port} has no replica")


def _wait(condition: Any, timeout_s: float, message: str | None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except redis_lib.RedisError:
            pass
        time.sleep(0.2)
    if message:
        raise RuntimeError(message)
    return False


def _wait_new_leader(r: Any, old: str | None, killed_at: float) -> tuple[bool, float]:
    from scheduler.process import LEASE_MS, RENEW_EVERY_S

    def new_leader() -> bool:
        holder = r.get(keys.scheduler_leader())
        return holder is not None and holder != old

    found = _wait(new_leader, LEASE_MS / 1000 + RENEW_EVERY_S + 30, None)
    return found, time.time() - killed_at


def _only_run(r: Any, bc_store: Any, broadcast_id: str) -> str:
    runs = r.zrange(keys.broadcast_runs(broadcast_id), 0, -1)
    return str(runs[0]) if runs else ""


ANSWER_LINK = re.compile(r"/alerts/answer/([A-Za-z0-9._~-]+)")


def _deliveries(state: Any, config: Config, since: int) -> list[tuple[str, str, int]]:
    """(alert id, openid, received ms) of each warning that reached a phone, any channel."""
    found = []
    for message in state.messages(None, ("template", "custom"), since, 10_000_000):
        match = ANSWER_LINK.search(json.dumps(message["payload"], ensure_ascii=False))
        token = read_token(config.service.secret_key, match.group(1), time.time()) if match \
            else None
        if token is not None:
            found.append((token.alert_id, message["openid"], int(message["received_at_ms"])))
    return found


def _warned_alerts(state: Any, config: Config, since: int) -> set[str]:
    return {alert_id for alert_id, _o, _t in _deliveries(state, config, since)}


def _count(state: Any, config: Config, since: int, platform: Platform, events: dict[str, float],
           failover: dict[str, float], r: Any, bc_store: Any, broadcast_id: str) -> dict[str, Any]:
    warned = Counter[tuple[str, str]]()
    per_alert = Counter[str]()
    first_at: dict[str, float] = {}
    for alert_id, openid, at_ms in _deliveries(state, config, since):
        warned[(alert_id, openid)] += 1
        per_alert[alert_id] += 1
        first_at[alert_id] = min(first_at.get(alert_id, at_ms), at_ms)
    lost = sum(1 for alert_id in platform.accepted if per_alert[alert_id] == 0)
    duplicates = sum(n - 1 for n in warned.values() if n > 1)
    killed = events["master_killed"]
    done = failover.get("done", float("nan"))
    during = [first_at[a] - platform.detected[a] * 1000 for a in platform.accepted
              if a in first_at and killed <= platform.detected[a] <= done]
    everything = [first_at[a] - platform.detected[a] * 1000 for a in platform.accepted
                  if a in first_at]
    run_id = _only_run(r, bc_store, broadcast_id)
    run = bc_store.get_run(r, run_id) or {}
    batches = bc_store.run_batches(r, run_id)
    mass = state.messages(None, ("mass",), since, 10_000_000)
    accepted_sends = {m.get("msgid") for m in mass}
    per_follower = Counter(m["openid"] for m in mass)
    # Each recorded batch stands for one accepted send (a "repeated" one for the send WeChat had
    # already accepted under its clientmsgid); any accepted send beyond them went out twice.
    duplicate_batches = max(len(accepted_sends) - len(batches), 0) + sum(
        1 for n in per_follower.values() if n > 1)
    from alerts.store import AlertStore

    store = AlertStore(r, 86400)
    examples: list[dict[str, Any]] = []
    for (alert_id, _openid), n in warned.items():
        if n > 1 and len(examples) < 3:
            times = sorted(t for a, _o, t in _deliveries(state, config, since) if a == alert_id)
            examples.append({"alert_id": alert_id, "received_at_ms": times,
                             "timeline": [(e["at_ms"], e["event"], e["actor"])
                                          for e in store.timeline(alert_id)]})
    return {
        "duplicate_examples": examples,
        "alerts": len(platform.detected), "accepted": len(platform.accepted),
        "lost": lost, "duplicates": duplicates,
        "broadcast_status": run.get("status"), "broadcast_batches": len(batches),
        "broadcast_followers_reached": len(per_follower),
        "duplicate_batches": duplicate_batches,
        "mass_sends_accepted": len(accepted_sends),
        "batches_repeated": sum(1 for b in batches if b.get("repeated")),
        "followers_sent_twice": sum(1 for n in per_follower.values() if n > 1),
        "failover_s": None if math.isnan(done) else round(done - killed, 2),
        "p99_ms_during_failover": round(percentile(during, 0.99), 1) if during else None,
        "alerts_during_failover": len(during),
        "p50_ms": round(percentile(everything, 0.5), 1) if everything else None,
        "p99_ms": round(percentile(everything, 0.99), 1) if everything else None,
        "platform_retries": dict(platform.retries),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--audience", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.seconds, args.rate, args.audience)
    for name, value in result.items():
        print(f"{name:<28} {value}")
    print(json.dumps({k: result[k] for k in ("lost", "duplicates", "duplicate_batches",
                                             "failover_s", "p99_ms_during_failover")}))
    return 0 if not (result["lost"] or result["duplicates"] or result["duplicate_batches"]) else 1


if __name__ == "__main__":
    sys.exit(main())
