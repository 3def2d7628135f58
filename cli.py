"""``endfraud``: the one entry point. Each process runs on its own, or all together in demo mode.

    endfraud web          the Flask app under gunicorn (never Flask's development server)
    endfraud worker       durable-queue consumers (warnings, broadcasts, slow replies, screenshots)
    endfraud scheduler    the single APScheduler process (a second copy idles as standby)
    endfraud sandbox      the local WeChat API simulator and simulated citizen phones
    endfraud demo         embedded Redis + all of the above, stopped together by Ctrl-C
    endfraud demo --cluster   the same on a local 3+3-node Redis Cluster, several of each process
    endfraud check        scam-check texts from stdin, one JSON object per line on stdout
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from config import Config, ConfigError, ServiceConfig, load_config


def _load(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


def web_metrics_dir(config: Config) -> Path:
    """prometheus_client's multiprocess directory for this web server (one per port, so two web
    servers on one machine never sum each other's files)."""
    return config.data_path / f"prometheus-web-{config.service.port}"


def cmd_web(args: argparse.Namespace) -> int:
    config = _load(args)
    # Before gunicorn (or anything) imports prometheus_client: it picks its storage at import.
    from telemetry.multiproc import mark_worker_dead, prepare_multiprocess_dir

    metrics_dir = web_metrics_dir(config)
    prepare_multiprocess_dir(metrics_dir)
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger as GunicornLogger

    from telemetry.logs import gunicorn_logconfig

    class WebLogger(GunicornLogger):
        def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
            # With a logconfig_dict gunicorn builds every access line (all the atoms, a log
            # record) and then drops it: "gunicorn.access" has no handler and does not
            # propagate unless an access log is configured. Skip the building.
            if self.cfg.accesslog is not None:
                super().access(resp, req, environ, request_time)

    class WebServer(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{config.service.host}:{config.service.port}")
            self.cfg.set("workers", config.service.web_workers)
            self.cfg.set("threads", config.service.web_threads)
            self.cfg.set("worker_class", "gthread")
            # WeChat gives up after 5 s; a request stuck far longer is a bug, not a slow client.
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            self.cfg.set("logger_class", WebLogger)
            self.cfg.set("loglevel", config.service.log_level.lower())
            self.cfg.set("logconfig_dict", gunicorn_logconfig(config.service.log_format,
                                                              config.service.log_level))
            self.cfg.set("child_exit", lambda _server, worker: mark_worker_dead(worker.pid))
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25 opens a control socket at a fixed per-user path by default;
                # two servers on one machine (web + sandbox) would fight over it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from app import configure_logging, create_app, settle_heap

            configure_logging(config, "web")
            app = create_app(config, metrics_dir=str(metrics_dir))
            settle_heap(app.config["REDIS"])
            return app

    WebServer().run()
    return 0


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _serve_metrics(config: Config, port: int | None, configured: int, role: str) -> Any:
    """The process's own /metrics on ``--metrics-port`` (else the configured port; 0: none)."""
    from telemetry.exposition import serve

    chosen = configured if port is None else port
    if not chosen:
        return None
    server = serve(config.metrics.host, chosen)
    logging.getLogger(__name__).info("%s metrics on http://%s:%d/metrics", role,
                                     config.metrics.host, chosen)
    return server


def cmd_worker(args: argparse.Namespace) -> int:
    from app import configure_logging, settle_heap
    from store.redis import connect
    from worker.process import run_worker

    config = _load(args)
    configure_logging(config, "worker")
    _serve_metrics(config, args.metrics_port, config.metrics.worker_port, "worker")
    redis = connect(config)
    settle_heap(redis)
    run_worker(config, redis, _stop_event())
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    from app import configure_logging
    from scheduler.process import run_scheduler
    from store.redis import connect

    config = _load(args)
    configure_logging(config, "scheduler")
    _serve_metrics(config, args.metrics_port, config.metrics.scheduler_port, "scheduler")
    run_scheduler(config, connect(config), _stop_event())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.server import serve

    serve(_load(args))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from content.check_cli import run_check

    # 1 when any line failed: the count itself would wrap at 256 (exit statuses are one byte).
    return 1 if run_check(sys.stdin, sys.stdout) else 0


def demo_environment(config: Config) -> dict[str, str]:
    """Environment for the demo's child processes: demo mode, WeChat pointed at the simulator."""
    sandbox_url = f"http://{config.sandbox.host}:{config.sandbox.port}/"
    env = dict(os.environ)
    if (config.service.public_url.rstrip("/") == ServiceConfig.public_url
            and config.service.port != ServiceConfig.port):
        # Only the port was moved (ENDFRAUD_SERVICE__PORT): the simulator's webhook calls, the
        # answer links and the banner must follow it, not reach whatever holds port 8000.
        env["ENDFRAUD_SERVICE__PUBLIC_URL"] = f"http://127.0.0.1:{config.service.port}"
    env.update({
        "ENDFRAUD_SERVICE__MODE": "demo",
        "ENDFRAUD_WECHAT__API_BASE_URL": sandbox_url,
        "ENDFRAUD_SMS__PROVIDER": "sandbox",
        "ENDFRAUD_SMS__SANDBOX_URL": sandbox_url,
        "PYTHONUNBUFFERED": "1",
    })
    return env


# The demo cluster fails a master over after 5 s of silence (production default: 15 s).
DEMO_CLUSTER_NODE_TIMEOUT_MS = 5000
DEMO_CLUSTER_MASTERS = 3
# Process counts of ``demo --cluster``: what a small province deployment runs, on one machine.
CLUSTER_ROLES = ("sandbox", "worker", "worker", "worker", "scheduler", "scheduler", "web", "web2")


def cmd_demo(args: argparse.Namespace) -> int:
    from config import EXAMPLE_CONFIG
    from demo.seed import seed_demo
    from store.redis import connect, embedded_url, server_args, wait_until_up

    # The demo runs on config.example.toml's published demo values unless told otherwise.
    path = str(getattr(args, "config", None) or os.environ.get("ENDFRAUD_CONFIG") or EXAMPLE_CONFIG)
    env = demo_environment(load_config(path, demo=True))
    env["ENDFRAUD_CONFIG"] = path
    config = load_config(path, environ=env, demo=True)
    cluster = bool(getattr(args, "cluster", False))
    busy = busy_demo_ports(config, cluster)
    if busy:
        for key, port in busy:
            env_name = "ENDFRAUD_" + key.upper().replace(".", "__")
            print(f"endfraud demo: port {port} ({key}) is already in use (another demo or "
                  f"service?); stop it, or choose a free port: {env_name}=<port> make demo",
                  file=sys.stderr)
        return 1
    redis_children: list[subprocess.Popen[bytes]] = []
    children: list[subprocess.Popen[bytes]] = []
    metrics_ports: dict[str, list[int]] = {}
    stop = _stop_event()
    try:
        if cluster:
            redis_children = _start_demo_cluster(config, env)
            config = load_config(path, environ=env, demo=True)
        elif not config.redis.url:
            # Embedded Redis as a child process, so Ctrl-C stops it with everything else; in
            # its own session, so the terminal's Ctrl-C reaches it only through us, last.
            redis_children.append(subprocess.Popen(
                server_args(config.redis.embedded_port, config.data_path / "redis",
                            daemonize=False), start_new_session=True))
            wait_until_up(embedded_url(config))
        exe = [sys.executable, "-m", "cli"]
        roles = CLUSTER_ROLES if cluster else ("sandbox", "worker", "scheduler", "web")
        configured = {"worker": config.metrics.worker_port,
                      "scheduler": config.metrics.scheduler_port}
        for role in roles:
            child_env, extra = env, []
            if role == "web2":
                # The second web process: same app on the next free demo port (the sandbox
                # delivers WeChat's pushes to the first; either takes alerts and the console).
                child_env = {**env, "ENDFRAUD_SERVICE__PORT": str(_second_web_port(config))}
                role = "web"
            if role in configured:
                # Each worker and scheduler serves its own /metrics: the first on the configured
                # port (if any), the others on free ones.
                taken = metrics_ports.setdefault(role, [])
                port = (configured[role] if not taken and configured[role] else _free_port())
                taken.append(port)
                extra = ["--metrics-port", str(port)]
            # Each in its own session, like Redis: a terminal's Ctrl-C then reaches only this
            # process, which stops them one signal each. gunicorn's gthread workers hit by the
            # terminal's SIGINT and their master's SIGQUIT at once can deadlock in handle_quit
            # (both handlers shut the thread pool down under one lock) and outlive the demo.
            children.append(subprocess.Popen([*exe, role, *extra], env=child_env,
                                              cwd=os.path.dirname(__file__),
                                              start_new_session=True))
        if not _wait_healthy(config, stop, children + redis_children):
            return 1
        password = seed_demo(config, connect(config))
        _print_demo_banner(config, password, metrics_ports, cluster)
        while not stop.is_set():
            if any(child.poll() is not None for child in children):
                print("endfraud demo: a process exited; stopping the others", file=sys.stderr)
                break
            stop.wait(0.5)
    finally:
        # Services first, Redis last, so nothing loses its store while shutting down.
        _stop_processes(children)
        _stop_processes(redis_children)
    return 0


def _second_web_port(config: Config) -> int:
    return config.service.port + 2  # +1 is the sandbox's in the demo config


def _start_demo_cluster(config: Config, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """3 masters + 3 replicas on embedded_port.. +5, data (AOF, nodes.conf) under data_dir."""
    from store import local_cluster

    total = 2 * DEMO_CLUSTER_MASTERS
    ports = [config.redis.embedded_port + i for i in range(total)]
    procs = local_cluster.start_nodes(config.data_path / "redis-cluster", ports,
                                      DEMO_CLUSTER_NODE_TIMEOUT_MS)
    try:
        local_cluster.form(ports, DEMO_CLUSTER_MASTERS)
    except BaseException:
        local_cluster.stop_nodes(procs)
        raise
    env["ENDFRAUD_REDIS__URL"] = f"redis://127.0.0.1:{ports[0]}/0"
    env["ENDFRAUD_REDIS__CLUSTER"] = "true"
    return procs


def busy_demo_ports(config: Config, cluster: bool = False) -> list[tuple[str, int]]:
    """The ports ``endfraud demo`` would listen on that something else already holds, with
    their config keys. Checked before anything starts: an embedded Redis that cannot bind would
    otherwise leave the demo talking to whichever Redis answers on that port. ``cluster``: the
    six nodes (and their cluster-bus ports, +10000) and the second web process too."""
    import socket

    wanted = [("service.port", config.service.host, config.service.port),
              ("sandbox.port", config.sandbox.host, config.sandbox.port),
              ("metrics.worker_port", config.metrics.host, config.metrics.worker_port),
              ("metrics.scheduler_port", config.metrics.host, config.metrics.scheduler_port)]
    if cluster:
        first = config.redis.embedded_port
        wanted += [("redis.embedded_port", "127.0.0.1", port)
                   for i in range(2 * DEMO_CLUSTER_MASTERS)
                   for port in (first + i, first + i + 10000)]
        wanted.append(("service.port", config.service.host, _second_web_port(config)))
    elif not config.redis.url:
        wanted.append(("redis.embedded_port", "127.0.0.1", config.redis.embedded_port))
    busy = []
    for key, host, port in wanted:
        if not port:
            continue
        with socket.socket() as probe:
            # As the servers themselves bind: a port left in TIME_WAIT is free, a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                busy.append((key, port))
    return busy


def _stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for child in processes:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in processes:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            # The whole session (a gunicorn master and its workers), not just its leader.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def _wait_healthy(config: Config, stop: threading.Event,
                  children: list[subprocess.Popen[bytes]], timeout_s: float = 60.0) -> bool:
    """Block until /healthz says web, worker, scheduler and Redis are all up."""
    import urllib.error
    import urllib.request

    url = f"http://{config.service.host}:{config.service.port}/healthz"
    deadline = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            print("endfraud demo: a process failed to start; see the log above", file=sys.stderr)
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        stop.wait(0.3)
    print("endfraud demo: services did not become healthy; see the log above", file=sys.stderr)
    return False


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _print_demo_banner(config: Config, password: str, metrics_ports: dict[str, list[int]],
                       cluster: bool = False) -> None:
    web = config.service.public_url
    sandbox = f"http://{config.sandbox.host}:{config.sandbox.port}"
    lines = [
        "",
        "终结诈骗 demo is running (Ctrl-C stops everything)",
        f"  webhook            {web}/wechat"
        "   (token, AppID, EncodingAESKey: see config.example.toml)",
        f"  simulated phone    {sandbox}/sandbox/phone",
        f"  staff console      {web}/console/   user: admin   password: {password}",
        f"  health             {web}/healthz",
        f"  metrics            {web}/metrics   worker http://{config.metrics.host}:"
        f"{metrics_ports['worker'][0]}/metrics   scheduler http://{config.metrics.host}:"
        f"{metrics_ports['scheduler'][0]}/metrics"
        + ("   (each worker and scheduler: its own port)" if cluster else ""),
        f"  data (Redis AOF)   {config.data_path / ('redis-cluster' if cluster else 'redis')}",
        "",
    ]
    if cluster:
        first = config.redis.embedded_port
        lines[-1:-1] = [
            (f"  redis cluster      masters 127.0.0.1:{first}..{first + 2}, replicas "
             f"{first + 3}..{first + 5}"),
            (f"  second web         http://{config.service.host}:{_second_web_port(config)}/"
             "   (3 workers, 2 schedulers: one leads)"),
        ]
    print("\n".join(lines), flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="endfraud", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="config file (default: $ENDFRAUD_CONFIG or config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    metrics_port = argparse.ArgumentParser(add_help=False)
    metrics_port.add_argument("--metrics-port", type=int, default=None,
                              help="serve Prometheus metrics on this port (0: off; default: "
                                   "metrics.worker_port / metrics.scheduler_port)")
    for name, fn, help_text in (
        ("web", cmd_web, "serve the webhook, APIs and console under gunicorn"),
        ("worker", cmd_worker, "run durable-queue consumers"),
        ("scheduler", cmd_scheduler, "run the scheduler (one active per deployment)"),
        ("sandbox", cmd_sandbox, "run the local WeChat API simulator"),
        ("demo", cmd_demo, "run everything locally with the simulator and embedded Redis"),
        ("check", cmd_check, "scam-check texts from stdin (lines or JSON lines)"),
    ):
        parents = [metrics_port] if name in ("worker", "scheduler") else []
        command = sub.add_parser(name, help=help_text, parents=parents)
        command.set_defaults(func=fn)
        if name == "demo":
            command.add_argument("--cluster", action="store_true",
                                 help="on a local Redis Cluster (3 masters + 3 replicas) with 2 "
                                      "web processes, 3 workers and 2 schedulers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"endfraud: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
