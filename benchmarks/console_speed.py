"""Wall-clock figures that used to be test assertions (tests must not time things on a loaded
CI box): the scam check's time per text, and the dashboard API with a million followers counted.

Run from the project root: .venv/bin/python benchmarks/console_speed.py
Prints a table and, last, one JSON object: scam_check_ms_per_text, dashboard_ms_p50/p99.
Targets: < 5 ms per text, dashboard < 500 ms.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis as redis_lib  # noqa: E402

from benchmarks.harness import percentile  # noqa: E402
from content.library import load_library  # noqa: E402
from intel.scamcheck import check_text  # noqa: E402
from tests.servers import start_redis, stop  # noqa: E402

DATA = ROOT / "corpora" / "eval" / "bulletins.jsonl"


def scam_check_ms_per_text(rounds: int = 5) -> float:
    library = load_library()
    texts = [json.loads(line)["text"] for line in DATA.open(encoding="utf-8") if line.strip()]
    check_text("warm-up", library)
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            check_text(text, library)
    return 1000 * (time.perf_counter() - started) / (rounds * len(texts))


def dashboard_ms(requests_n: int = 50) -> list[float]:
    from app import create_app
    from config import EXAMPLE_CONFIG, load_config
    from tests.staff import sign_in

    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_redis(Path(tmp))
        try:
            url = f"redis://127.0.0.1:{port}/0"
            config = load_config(EXAMPLE_CONFIG, environ={}, demo=True).replace(
                redis={"url": url})
            redis = redis_lib.Redis.from_url(url, decode_responses=True)
            redis.hset("reg:{stats}", mapping={"followers": 1_000_000, "bound": 640_000})
            client = sign_in(create_app(config, redis).test_client(), "admin")
            client.get("/api/v1/dashboard")
            times = []
            for _ in range(requests_n):
                started = time.perf_counter()
                assert client.get("/api/v1/dashboard").status_code == 200
                times.append(1000 * (time.perf_counter() - started))
            return times
        finally:
            stop([proc])


def main() -> None:
    per_text = scam_check_ms_per_text()
    times = dashboard_ms()
    result = {"scam_check_ms_per_text": round(per_text, 3),
              "dashboard_ms_p50": round(percentile(times, 0.5), 2),
              "dashboard_ms_p99": round(percentile(times, 0.99), 2)}
    print(f"{'scam check, ms per text':32} {result['scam_check_ms_per_text']:>8}  (target < 5)")
    print(f"{'dashboard API p50 / p99, ms':32} {result['dashboard_ms_p50']:>8} / "
          f"{result['dashboard_ms_p99']}  (target < 500)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
