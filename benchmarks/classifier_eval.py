"""Score the scam check against the labelled public texts in benchmarks/data/scam_texts.jsonl.

Prints per-type precision/recall, fraud-vs-benign precision/recall/F1 on the held-out split
(rules were never tuned on it) and on all items, type accuracy among correctly flagged fraud,
and throughput. The last line is one JSON object: f1, type_accuracy, texts_per_s, items
(the held-out figures, since those are the honest ones).

Run from the project root: .venv/bin/python benchmarks/classifier_eval.py [path.jsonl]
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intel.scamcheck import check_text  # noqa: E402
from content.library import load_library  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "scam_texts.jsonl"


def load_items(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def binary_metrics(rows: list[tuple[dict, object]]) -> dict[str, float]:
    tp = sum(1 for item, r in rows if item["label"] == "fraud" and r.fraud)
    fp = sum(1 for item, r in rows if item["label"] != "fraud" and r.fraud)
    fn = sum(1 for item, r in rows if item["label"] == "fraud" and not r.fraud)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    flagged = [(item, r) for item, r in rows if item["label"] == "fraud" and r.fraud]
    type_ok = sum(1 for item, r in flagged if item["fraud_type"] == r.fraud_type)
    return {
        "items": len(rows), "precision": precision, "recall": recall, "f1": f1,
        "type_accuracy": type_ok / len(flagged) if flagged else 0.0, "fp": fp, "fn": fn,
    }


def per_type_table(rows: list[tuple[dict, object]]) -> list[str]:
    truth = Counter(item["fraud_type"] for item, _ in rows if item["label"] == "fraud")
    predicted = Counter(r.fraud_type for _, r in rows if r.fraud)
    hits = Counter(
        item["fraud_type"] for item, r in rows
        if item["label"] == "fraud" and r.fraud and r.fraud_type == item["fraud_type"]
    )
    lines = [f"{'type':<18}{'n':>4}{'pred':>6}{'precision':>11}{'recall':>8}"]
    for type_id in sorted(set(truth) | set(predicted)):
        p = hits[type_id] / predicted[type_id] if predicted[type_id] else 0.0
        rc = hits[type_id] / truth[type_id] if truth[type_id] else 0.0
        lines.append(f"{type_id:<18}{truth[type_id]:>4}{predicted[type_id]:>6}{p:>11.2f}{rc:>8.2f}")
    return lines


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DATA
    library = load_library()
    items = load_items(path)
    check_text("warm-up", library)
    started = time.perf_counter()
    results = [check_text(item["text"], library) for item in items]
    elapsed = time.perf_counter() - started
    rows = list(zip(items, results))
    heldout = [(i, r) for i, r in rows if i.get("split") == "heldout"]

    print(f"scam check over {len(items)} labelled texts from {path.name}")
    for name, subset in (("held-out", heldout), ("all", rows)):
        m = binary_metrics(subset)
        print(f"\n[{name}] items={m['items']} precision={m['precision']:.3f} "
              f"recall={m['recall']:.3f} F1={m['f1']:.3f} type_accuracy={m['type_accuracy']:.3f} "
              f"false_pos={m['fp']} false_neg={m['fn']}")
        print("\n".join(per_type_table(subset)))
    errors = [(i, r) for i, r in heldout if (i["label"] == "fraud") != r.fraud]
    if errors:
        print("\nheld-out mistakes:")
        for item, r in errors:
            print(f"  {item['label']:<6} got fraud={r.fraud} score={r.score}: {item['text'][:60]}")
    texts_per_s = len(items) / elapsed if elapsed else float("inf")
    print(f"\nthroughput: {texts_per_s:,.0f} texts/s ({1000 * elapsed / len(items):.3f} ms/text)")
    final = binary_metrics(heldout)
    print(json.dumps({
        "f1": round(final["f1"], 4), "type_accuracy": round(final["type_accuracy"], 4),
        "texts_per_s": round(texts_per_s, 1), "items": len(items),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
