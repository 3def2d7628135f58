"""Dashboard cost with a million followers counted: the budget is 0.5 s a request.

The dashboard reads counters only (console/dashboard.py), so its cost must not grow with the
directory. This starts its own Redis, sets registration's gauges to a million followers, stores
``--records`` real follower records beside them, and times ``/api/v1/dashboard`` as admin
through the Flask test client (no network, so the figure is the view and its Redis reads).
tests/console/test_dashboard.py checks the behaviour (no follower record read); this measures.

    .venv/bin/python benchmarks/dashboard.py [--requests 200] [--records 20000]

Last line: JSON with p50_ms, p95_ms, max_ms, budget_ms, requests, records.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import redis as redis_lib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile  # noqa: E402
from config import EXAMPLE_CONFIG, load_config  # noqa: E402
from store import keys  # noqa: E402
from store.followers import Follower, FollowerDirectory  # noqa: E402
from tests.servers import start_redis, stop  # noqa: E402
from tests.staff import sign_in  # noqa: E402

BUDGET_MS = 500.0


def seed(client: redis_lib.Redis, records: int) -> None:
    client.hset(keys.registration_stats(), mapping={"followers": 1_000_000, "bound": 640_000})
    directory = FollowerDirectory(client, None)  # type: ignore[arg-type]
    for index in range(records):
        directory.save(Follower(f"oBENCHDASH{index:018d}", True, 0, "o1", "c1", ""))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--records", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_redis(Path(tmp) / "redis")
        try:
            url = f"redis://127.0.0.1:{port}/0"
            client = redis_lib.Redis.from_url(url, decode_responses=True)
            seed(client, args.records)
            from app import create_app

            config = load_config(EXAMPLE_CONFIG, environ={}, demo=True).replace(
                redis={"url": url})
            app = create_app(config, client)
            app.testing = True
            web = sign_in(app.test_client(), "admin")
            web.get("/api/v1/dashboard")  # warm-up: templates, scripts, connections
            timings_ms = []
            for _ in range(args.requests):
                started = time.perf_counter()
                response = web.get("/api/v1/dashboard")
                timings_ms.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
        finally:
            stop([proc])
    p50, p95 = percentile(timings_ms, 0.5), percentile(timings_ms, 0.95)
    worst = max(timings_ms)
    print(f"/api/v1/dashboard, 1,000,000 followers counted, {args.records:,} records stored, "
          f"{args.requests} requests")
    print(f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  max {worst:.2f} ms  "
          f"(budget {BUDGET_MS:.0f} ms: {'within' if worst < BUDGET_MS else 'OVER'})")
    print(json.dumps({"p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "max_ms": round(worst, 2),
                      "budget_ms": BUDGET_MS, "requests": args.requests,
                      "records": args.records}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
