"""Webhook throughput and latency, beside a bare Flask endpoint measured in the same run.

Both servers run under gunicorn with the web process's settings (2 workers, gthread). The load
is signed, safe-mode encrypted WeChat text messages with unique MsgIds (so every one is really
handled: signature, decryption, dedup SET NX, dispatch to the scam check, encrypted reply).
The bare endpoint returns a fixed reply, so the ratio is the cost of our code over Flask's own.
A third server, the least a safe-mode view can do with wechatpy (verify, decrypt, parse, one SET NX,
encrypted reply), shows how much of that is the protocol itself.

Two measurements per server: closed-loop throughput with C concurrent connections, and latency
at a fixed open-loop rate (timed from each request's scheduled send time, so queueing counts).
The machine is shared, so the throughput is taken in one-second slices, the three servers in
turn, and summed: load that comes and goes then weighs on each server alike instead of on
whichever one was being measured. Each server's CPU milliseconds per message (its process tree,
from ``/proc``, over those slices) is reported beside it: on a shared box it moves less than
a rate does.

    .venv/bin/python benchmarks/webhook.py [--seconds 8] [--rate 500] [--concurrency 8]

Last line: JSON with msgs_per_s, bare_msgs_per_s, ratio, p50_ms, p99_ms (and errors,
minimal_msgs_per_s, ratio_to_minimal, cpu_ms_per_msg {webhook, minimal, bare}).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import cpu_ms, percentile  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from tests.servers import free_port, start_redis, stop  # noqa: E402
from tests.wx import signed_query, text_xml  # noqa: E402

BARE_REPLY = ("<xml><ToUserName><![CDATA[o]]></ToUserName><FromUserName><![CDATA[gh]]>"
              "</FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType>"
              "<Content><![CDATA[ok]]></Content></xml>")
TEXTS = ["你好", "今天天气怎么样", "请问怎么绑定手机号", "谢谢", "我想了解防骗知识"]


def serve_bare(port: int, workers: int, threads: int) -> None:
    """The baseline: Flask under the same gunicorn settings, a fixed reply, nothing else."""
    from flask import Flask, Response

    app = Flask("bare")

    @app.post("/wechat")
    def wechat() -> Response:
        return Response(BARE_REPLY, mimetype="application/xml")

    _run_gunicorn(app, port, workers, threads)


def serve_minimal(port: int, redis_port: int, workers: int, threads: int) -> None:
    """A second reference: the least a safe-mode WeChat view can do (verify, decrypt, parse,
    one dedup SET NX, encrypted fixed reply), written plainly with wechatpy's own helpers. It
    shows how much of the gap to the bare endpoint is the protocol itself."""
    import redis as redis_lib
    from flask import Flask, Response, request
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply
    from wechatpy.utils import check_signature

    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                          config.wechat.app_id)
    store = redis_lib.Redis(port=redis_port)
    app = Flask("minimal")

    @app.post("/wechat")
    def wechat() -> Response:
        args = request.args
        check_signature(config.wechat.token, args["signature"], args["timestamp"], args["nonce"])
        xml = crypto.decrypt_message(request.data, args["msg_signature"], args["timestamp"],
                                     args["nonce"])
        message = parse_message(xml)
        store.set(f"bench:dedup:{message.id}", 1, nx=True, ex=3600)
        reply = TextReply(message=message, content="ok").render()
        return Response(crypto.encrypt_message(reply, args["nonce"], args["timestamp"]),
                        mimetype="application/xml")

    _run_gunicorn(app, port, workers, threads)


def _run_gunicorn(app, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers,
                               "threads": threads, "worker_class": "gthread",
                               "loglevel": "warning", "accesslog": None}.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return app

    Server().run()


def make_requests(count: int, config) -> list[tuple[str, bytes]]:
    """Pre-built (path+query, body) pairs: unique MsgIds, signed and encrypted."""
    from wechatpy.crypto import WeChatCrypto

    crypto = WeChatCrypto(config.wechat.token, config.wechat.encoding_aes_key,
                          config.wechat.app_id)
    import xmltodict

    built = []
    for i in range(count):
        openid = f"oBench{i % 500:05d}"
        query = signed_query(config, openid)
        xml = text_xml(openid, TEXTS[i % len(TEXTS)], msg_id=9_000_000_000 + i)
        body = crypto.encrypt_message(xml, query["nonce"], query["timestamp"])
        query["msg_signature"] = xmltodict.parse(body)["xml"]["MsgSignature"]
        query["encrypt_type"] = "aes"
        built.append((f"/wechat?{urlencode(query)}", body.encode()))
    return built


class Load:
    def __init__(self, port: int, requests: list[tuple[str, bytes]]) -> None:
        self.port = port
        self.requests = requests
        self.next = 0
        self.lock = threading.Lock()
        self.errors = 0

    def take(self) -> tuple[str, bytes]:
        with self.lock:
            item = self.requests[self.next % len(self.requests)]
            self.next += 1
            return item

    def send(self, conn: http.client.HTTPConnection) -> None:
        path, body = self.take()
        conn.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            with self.lock:
                self.errors += 1

    def closed_loop(self, seconds: float, concurrency: int) -> int:
        """Messages answered by ``concurrency`` connections sending back to back."""
        done = [0] * concurrency
        deadline = time.perf_counter() + seconds

        def run(slot: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            while time.perf_counter() < deadline:
                self.send(conn)
                done[slot] += 1
            conn.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done)

    def open_loop(self, seconds: float, rate: float, concurrency: int) -> list[float]:
        """Latencies (ms) measured from each request's scheduled time."""
        total = int(seconds * rate)
        start = time.perf_counter() + 0.2
        latencies: list[float] = []
        lock = threading.Lock()
        counter = iter(range(total))

        def run() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            for i in counter:
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self.send(conn)
                with lock:
                    latencies.append((time.perf_counter() - scheduled) * 1000)
            conn.close()

        threads = [threading.Thread(target=run) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(latencies)




def wait_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")




def throughput(loads: dict[str, Load], pids: dict[str, int], seconds: float,
               concurrency: int) -> dict[str, dict[str, float]]:
    """Closed-loop msgs/s and CPU ms per message of each server, measured in one-second slices
    taken in turn (see the module docstring)."""
    sent = dict.fromkeys(loads, 0)
    busy_s = dict.fromkeys(loads, 0.0)
    cpu = dict.fromkeys(loads, 0.0)
    for _ in range(max(1, round(seconds))):
        for name, load in loads.items():
            before_cpu, started = cpu_ms(pids[name]), time.perf_counter()
            sent[name] += load.closed_loop(1.0, concurrency)
            busy_s[name] += time.perf_counter() - started
            cpu[name] += cpu_ms(pids[name]) - before_cpu
    return {name: {"msgs_per_s": sent[name] / busy_s[name],
                   "cpu_ms_per_msg": cpu[name] / max(1, sent[name])} for name in loads}


def latency(load: Load, args: argparse.Namespace) -> dict[str, float]:
    latencies = load.open_loop(args.seconds, args.rate, args.concurrency)
    return {"p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-minimal", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = load_config(EXAMPLE_CONFIG, environ={}, demo=True)
    if args.serve_bare:
        serve_bare(args.serve_bare, config.service.web_workers, config.service.web_threads)
        return
    if args.serve_minimal:
        port, redis_port = args.serve_minimal
        serve_minimal(port, redis_port, config.service.web_workers, config.service.web_threads)
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    redis_proc, redis_port = start_redis(tmp / "redis")
    web_port, bare_port, minimal_port = free_port(), free_port(), free_port()
    env = {**os.environ, "ENDFRAUD_CONFIG": str(EXAMPLE_CONFIG),
           "ENDFRAUD_SERVICE__MODE": "demo", "ENDFRAUD_SERVICE__PORT": str(web_port),
           "ENDFRAUD_SERVICE__LOG_LEVEL": "WARNING",
           "ENDFRAUD_REDIS__URL": f"redis://127.0.0.1:{redis_port}/0"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "cli", "web"], env=env, cwd=ROOT),
        subprocess.Popen([sys.executable, __file__, "--serve-bare", str(bare_port)], cwd=ROOT),
        subprocess.Popen([sys.executable, __file__, "--serve-minimal", str(minimal_port),
                          str(redis_port)], cwd=ROOT),
    ]
    try:
        for port in (web_port, bare_port, minimal_port):
            wait_port(port)
        count = int(args.seconds * max(args.rate, 3000) * 2) + 5000
        loads = {"bare": Load(bare_port, make_requests(count, config)),
                 "minimal": Load(minimal_port, make_requests(count, config)),
                 "webhook": Load(web_port, make_requests(count, config))}
        for load in loads.values():
            load.closed_loop(1.0, args.concurrency)  # warm-up
        pids = {"webhook": procs[0].pid, "bare": procs[1].pid, "minimal": procs[2].pid}
        rows = throughput(loads, pids, args.seconds, args.concurrency)
        for name, load in loads.items():
            rows[name].update(latency(load, args), errors=load.errors)
        bare, minimal, ours = rows["bare"], rows["minimal"], rows["webhook"]
    finally:
        stop([*procs, redis_proc])

    ratio = ours["msgs_per_s"] / bare["msgs_per_s"]
    to_minimal = ours["msgs_per_s"] / minimal["msgs_per_s"]
    print(f"{'server':<10} {'msgs/s':>10} {'cpu ms/msg':>10} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'errors':>7}   (open loop at {args.rate:.0f} msg/s, {args.concurrency} connections)")
    for name, row in (("bare", bare), ("minimal", minimal), ("webhook", ours)):
        print(f"{name:<10} {row['msgs_per_s']:>10.0f} {row['cpu_ms_per_msg']:>10.3f}"
              f" {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['errors']:>7.0f}")
    print(f"ratio webhook/bare: {ratio:.2f}  (target >= 0.8; p99 target < 20 ms)")
    print(f"ratio minimal wechatpy view/bare: {minimal['msgs_per_s'] / bare['msgs_per_s']:.2f}"
          "  (the protocol's own cost on this harness)")
    print(f"ratio webhook/minimal: {to_minimal:.2f}  (target >= 0.9)")
    print(json.dumps({"msgs_per_s": round(ours["msgs_per_s"], 1),
                      "bare_msgs_per_s": round(bare["msgs_per_s"], 1),
                      "ratio": round(ratio, 3), "p50_ms": round(ours["p50_ms"], 2),
                      "p99_ms": round(ours["p99_ms"], 2), "errors": int(ours["errors"]),
                      "minimal_msgs_per_s": round(minimal["msgs_per_s"], 1),
                      "ratio_to_minimal": round(to_minimal, 3),
                      "cpu_ms_per_msg": {name: round(row["cpu_ms_per_msg"], 3)
                                         for name, row in (("webhook", ours),
                                                           ("minimal", minimal),
                                                           ("bare", bare))}}))

if __name__ == "__main__":
    main()
