"""Start-up heap: a web or worker process loads what requests use, then freezes it out of the
cyclic collector's sight, so no full collection walks the model and library again (a 70-80 ms
stall of every thread, issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, sys
from config import EXAMPLE_CONFIG, load_config
from store.redis import connect
from app import settle_heap
from intel.classifier import shipped_model

config = load_config(EXAMPLE_CONFIG, environ={"ENDFRAUD_REDIS__URL": sys.argv[1]}, demo=True)
settle_heap(connect(config))
print(json.dumps({"frozen": gc.get_freeze_count(),
                  "model_loaded": shipped_model.cache_info().currsize}))
"""


def test_settle_heap_loads_the_model_and_freezes_the_startup_heap(redis_url):
    out = subprocess.run([sys.executable, "-c", PROBE, redis_url], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["model_loaded"] == 1
    assert probe["frozen"] > 50_000
