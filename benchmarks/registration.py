"""Citizen registration at scale: N followers subscribe by an officer's QR code and bind a phone
number with the one-time code from the SMS, all through the real webhook.

Everything runs as in production, on loopback: Redis, the WeChat simulator (SMS stand-in), the
worker (sends the codes), and the web app under gunicorn. Each follower sends four signed,
safe-mode encrypted webhook messages: ``subscribe`` with ``qrscene_o:<officer>``, "绑定", the
phone number, and the code read back from the simulated phone. A thread pool drives followers
concurrently; every webhook request is timed.

Memory per follower is the *marginal* cost: the slope of Redis ``used_memory`` between two sizes
of the store, (after - before) / N. Follower data lives in a fixed number of bucket hashes
(``keys.FOLLOWER_BUCKETS``/``PHONE_BUCKETS``); at a million followers every bucket exists, while
a short run would mostly create buckets and measure their key overhead instead. So before the
counted run every bucket kind the warm-up touched is created in all its buckets (one placeholder
field each), and that fixed cost is reported apart (``bucket_overhead_bytes``). A short run
therefore gives the at-scale figure: at F followers, bytes per follower = marginal +
bucket_overhead / F. Each figure is taken after the transient keys are gone (webhook dedup keys
live 1 h, rate-limit windows a day, finished dialogs and the drained job stream) and after
``DEBUG RELOAD`` (as after a restart: Redis does not shrink its key table below the peak's size
by itself): what stays is the follower record, the encrypted phone copy, the phone index and the
48 h-window timestamp. The transient peak and the figure before the reload are printed too, and
a per-prefix breakdown (MEMORY USAGE).

Community tagging jobs fail with 40003 here (the bench posts to the webhook directly, so the
simulator does not know these followers) and are dead-lettered; that costs the worker a little
CPU, not the webhook.

    .venv/bin/python benchmarks/registration.py [--followers N] [--concurrency C]

Last line: JSON with followers, events_per_s, p99_ms, bytes_per_follower (marginal, the
at-scale figure; target <= 300), bucket_overhead_bytes, bytes_per_follower_at_1m.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis as redis_lib  # noqa: E402
import requests  # noqa: E402
import xmltodict  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402

from benchmarks.harness import percentile, wait_http  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from tests.servers import free_port, start_redis, stop  # noqa: E402
from tests.wx import event_xml, signed_query, text_xml  # noqa: E402

DEFAULT_FOLLOWERS = 20_000
OFFICERS = 50
# Self-expiring keys (dedup markers and webhook nonces live minutes, rate windows and dialogs
# less): not what a follower costs at rest.
TRANSIENT_PATTERNS = ("wx:{dedup:*", "wx:{nonce:*", "q:*", "reg:rl:*", "reg:sms:done:*", "dlg:*")




class Webhook:
    """Signed, encrypted POSTs to /wechat over one keep-alive connection per thread."""

    def __init__(self, port: int, config) -> None:
        self.port = port
        self.config = config
        self.crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                                   config.wechat.app_id)
        self.local = threading.local()
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.errors = 0

    def post(self, openid: str, xml: str) -> str:
        query = signed_query(self.config, openid)
        body = self.crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        query["msg_signature"] = xmltodict.parse(body)["xml"]["MsgSignature"]
        query["encrypt_type"] = "aes"
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                timeout=10)
        started = time.perf_counter()
        conn.request("POST", f"/wechat?{urlencode(query)}", body=body.encode(),
                     headers={"Content-Type": "text/xml"})
        response = conn.getresponse()
        answer = response.read().decode()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies_ms.append(elapsed)
            if response.status != 200:
                self.errors += 1
        if answer in ("", "success"):
            return ""
        data = xmltodict.parse(answer)["xml"]
        inner = self.crypto.decrypt_message(answer, data["MsgSignature"], data["TimeStamp"],
                                            data["Nonce"])
        return str(xmltodict.parse(inner)["xml"].get("Content") or "")


class Codes:
    """Reads the simulator's SMS log and hands each phone its newest code."""

    def __init__(self, sandbox_url: str) -> None:
        self.url = sandbox_url
        self.codes: dict[str, str] = {}
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        since = 0
        session = requests.Session()
        while not self.stop.is_set():
            params: dict[str, str | int] = {"kind": "sms", "since": since, "limit": 5000}
            found = session.get(self.url + "sandbox/api/messages", params=params,
                                timeout=10).json()
            for message in found["messages"]:
                code = re.search(r"\d{6}", message["payload"]["text"])
                if code:
                    with self.cond:
                        self.codes[message["payload"]["phone"]] = code.group(0)
                        self.cond.notify_all()
            since = found["next_since"]
            if not found["messages"]:
                time.sleep(0.02)

    def wait(self, phone: str, timeout_s: float = 60) -> str:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while phone not in self.codes:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no SMS for follower after {timeout_s} s")
                self.cond.wait(left)
            return self.codes.pop(phone)




def seed(r: redis_lib.Redis) -> None:
    from registration import directory as d

    d.save_station(r, d.Station("s1", "Bench"))
    for c in range(10):
        d.save_community(r, d.Community(f"c{c}", f"C{c}", "s1"))
    for o in range(OFFICERS):
        d.save_officer(r, d.Officer(f"o{o}", f"O{o}", f"B{o}", "s1", f"c{o % 10}"))


def register(hook: Webhook, codes: Codes, i: int) -> bool:
    openid = f"oBench{i:022d}"
    phone = str(13_000_000_000 + i)
    hook.post(openid, event_xml(openid, "subscribe", f"qrscene_o:o{i % OFFICERS}",
                                Ticket="bench"))
    hook.post(openid, text_xml(openid, "绑定", msg_id=10_000_000_000 + i * 4 + 1))
    hook.post(openid, text_xml(openid, phone, msg_id=10_000_000_000 + i * 4 + 2))
    code = codes.wait(phone)
    reply = hook.post(openid, text_xml(openid, code, msg_id=10_000_000_000 + i * 4 + 3))
    return "绑定成功" in reply


def used_memory(r: redis_lib.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def drop_transient(r: redis_lib.Redis) -> None:
    for pattern in TRANSIENT_PATTERNS:
        batch = []
        for key in r.scan_iter(match=pattern, count=5000):
            if r.type(key) == "stream":
                # Empty it but keep the consumer group the worker reads with.
                r.xtrim(key, maxlen=0, approximate=False)
                continue
            batch.append(key)
            if len(batch) >= 5000:
                r.unlink(*batch)
                batch = []
        if batch:
            r.unlink(*batch)


def reloaded_memory(r: redis_lib.Redis) -> int:
    """used_memory after DEBUG RELOAD (save + load, as a restart would): the key tables that
    grew for the peak's transient keys are sized to what is stored again."""
    r.execute_command("DEBUG", "RELOAD")
    return used_memory(r)


def dataset_memory(r: redis_lib.Redis) -> int:
    """``used_memory_dataset``: used_memory less Redis's own overhead (client buffers, the key
    table). The followers' data grows only this (their buckets already exist), and it does not
    move with the benchmark's open connections, which make used_memory jitter by tens of KB."""
    return int(r.info("memory")["used_memory_dataset"])


BUCKET_TAG = re.compile(r"\{([fp]):(\d+)\}")


def create_all_buckets(r: redis_lib.Redis) -> int:
    """Give every bucket of every bucketed key kind present (``fw:{f:12}``, ``ph:{p:7}``...) one
    placeholder field, as a large deployment has them all; returns the keys created."""
    from store import keys

    counts = {"f": keys.FOLLOWER_BUCKETS, "p": keys.PHONE_BUCKETS}
    shapes: set[tuple[str, str, str, str]] = set()
    for key in r.scan_iter(count=5000):
        found = BUCKET_TAG.search(key)
        if found and r.type(key) == "hash":
            shapes.add((key[:found.start()], found.group(1), key[found.end():], key))
    created = 0
    pipe = r.pipeline(transaction=False)
    for prefix, kind, suffix, _example in sorted(shapes):
        for bucket in range(counts[kind]):
            pipe.hsetnx(f"{prefix}{{{kind}:{bucket}}}{suffix}", "_", "")
        for added in pipe.execute():
            created += int(added)
    return created


def memory_by_prefix(r: redis_lib.Redis) -> dict[str, tuple[int, int]]:
    """Key prefix → (keys, bytes by MEMORY USAGE): what the remaining memory is made of."""
    found: dict[str, list[int]] = {}
    for key in r.scan_iter(count=5000):
        row = found.setdefault(key.split(":")[0], [0, 0])
        row[0] += 1
        row[1] += int(r.memory_usage(key) or 0)
    return {prefix: (row[0], row[1]) for prefix, row in sorted(found.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=DEFAULT_FOLLOWERS)
    # The web process serves web_workers x web_threads = 8 requests at once; more client threads
    # would only measure gunicorn's backlog.
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)

    tmp = Path(tempfile.mkdtemp(prefix="bench-registration-"))
    redis_proc, redis_port = start_redis(tmp / "redis")
    web_port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/"
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
           "ENDFRAUD_SERVICE__MODE": "demo", "ENDFRAUD_SERVICE__PORT": str(web_port),
           "ENDFRAUD_SERVICE__PUBLIC_URL": f"http://127.0.0.1:{web_port}",
           "ENDFRAUD_SERVICE__LOG_LEVEL": "WARNING",
           "ENDFRAUD_SANDBOX__PORT": str(sandbox_port),
           "ENDFRAUD_WECHAT__API_BASE_URL": sandbox_url,
           "ENDFRAUD_SMS__PROVIDER": "sandbox", "ENDFRAUD_SMS__SANDBOX_URL": sandbox_url,
           "ENDFRAUD_REDIS__URL": f"redis://127.0.0.1:{redis_port}/0"}
    # The worker's expected 40003 tagging failures (see above) would flood the output.
    quiet = {"worker": {"ENDFRAUD_SERVICE__LOG_LEVEL": "ERROR"}}
    procs = [subprocess.Popen([sys.executable, "-m", "cli", role],
                              env={**env, **quiet.get(role, {})}, cwd=ROOT)
             for role in ("sandbox", "worker", "web")]
    r = redis_lib.Redis(port=redis_port, decode_responses=True)
    codes: Codes | None = None
    try:
        wait_http(sandbox_url + "sandbox/api/stats")
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        seed(r)
        hook = Webhook(web_port, config)
        # Warm up (imports, token, content) with followers outside the counted range.
        codes = Codes(sandbox_url)
        for i in range(args.followers, args.followers + 20):
            register(hook, codes, i)
        drop_transient(r)
        hook.latencies_ms.clear()
        empty = reloaded_memory(r)
        placeholders = create_all_buckets(r)
        before = reloaded_memory(r)
        before_dataset = dataset_memory(r)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            bound = sum(pool.map(lambda i: register(hook, codes, i), range(args.followers)))
        elapsed = time.perf_counter() - started
        peak = used_memory(r)
        drop_transient(r)
        after_no_reload = used_memory(r)
        after = reloaded_memory(r)
        after_dataset = dataset_memory(r)
        breakdown = memory_by_prefix(r)
    finally:
        if codes is not None:
            codes.stop.set()
        stop([*procs, redis_proc])

    n = args.followers
    latencies = sorted(hook.latencies_ms)
    marginal = (after_dataset - before_dataset) / n
    overhead = before - empty
    row = {"followers": n, "events_per_s": round(len(latencies) / elapsed, 1),
           "p99_ms": round(percentile(latencies, 0.99), 2),
           "bytes_per_follower": round(marginal, 1),
           "bucket_overhead_bytes": overhead,
           "bytes_per_follower_at_1m": round(marginal + overhead / 1_000_000, 1)}
    print(f"{'followers':>10} {'bound':>8} {'webhook calls':>14} {'seconds':>8} {'events/s':>9} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    print(f"{n:>10} {bound:>8} {len(latencies):>14} {elapsed:>8.1f} {row['events_per_s']:>9.0f} "
          f"{percentile(latencies, 0.5):>7.2f} {row['p99_ms']:>7.2f} {hook.errors:>7}")
    print(f"redis memory per follower: {marginal:.0f} B marginal, persistent (target <= 300; "
          f"used_memory_dataset slope; {(after - before) / n:.0f} B by used_memory); "
          f"{(peak - before) / n:.0f} B at peak incl. 1 h dedup keys, rate-limit windows and "
          f"the job stream; {(after_no_reload - before) / n:.0f} B before the reload")
    print(f"fixed bucket overhead: {overhead} B for {placeholders} bucket keys created up front "
          f"(every bucket exists at scale): {row['bytes_per_follower_at_1m']:.0f} B per "
          f"follower at 1 M followers")
    print(f"p99 target < 50 ms; {args.concurrency} followers registering at a time")
    print(f"{'key prefix':<12} {'keys':>8} {'bytes':>12}   (MEMORY USAGE, placeholders included)")
    for prefix, (count, size) in breakdown.items():
        print(f"{prefix:<12} {count:>8} {size:>12}")
    print("(redis: one shared server; figures taken on whatever else the machine was running)")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
