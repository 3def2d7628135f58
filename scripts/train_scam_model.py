"""Train the shipped scam classifier from corpora/train and write intel/model/scam_model.json.gz.

Needs the training extra: pip install -e ".[train]". Deterministic (liblinear/lbfgs on a fixed
corpus), so a re-run without corpus changes gives the same file.

Run from the project root: .venv/bin/python scripts/train_scam_model.py
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intel.classifier import MODEL_PATH  # noqa: E402
from intel.corpus import ROOT as CORPORA  # noqa: E402
from intel.corpus import read_dir  # noqa: E402
from intel.training import augment, train  # noqa: E402


def main() -> int:
    items = read_dir(CORPORA / "train")
    licences = Counter(item["licence"] for item in items)
    sources = Counter(item["source"] for item in items)
    print(f"training items: {len(items)}; sources {dict(sources)}; licences {dict(licences)}")
    model = train(augment(items))
    MODEL_PATH.parent.mkdir(exist_ok=True)
    # mtime=0: the same weights give the same bytes.
    with MODEL_PATH.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(json.dumps(model, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":")).encode("utf-8"))
    print(f"wrote {MODEL_PATH.relative_to(ROOT)}: {model['meta']['vocabulary']} n-grams, "
          f"{MODEL_PATH.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
