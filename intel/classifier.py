"""The trained scam classifier: character n-grams and two linear models, pure-Python inference.

Features are the 1–3 character n-grams of the normalised text (``intel.normalize``) after links
become one mark and digit runs become ``0`` (so "2元一个" and "3元一个" are one feature). Each
n-gram present counts once, weighted by its IDF, and the vector is L2-normalised. Two logistic
regressions share the features: fraud vs. benign, and the fraud type (multinomial, fraud only).

The weights file ``intel/model/scam_model.json.gz`` is written by
``scripts/train_scam_model.py`` from the corpus in ``corpora/train`` and holds, per n-gram, its
IDF, its fraud weight and its weight for each type. Inference is a dictionary walk over a few
hundred n-grams: no numpy, no network, well under a millisecond per text.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from intel.normalize import normalize_text

MODEL_PATH = Path(__file__).resolve().parent / "model" / "scam_model.json.gz"
NGRAM_SIZES = (1, 2, 3)
LINK_MARK = "↗"
_LINK = re.compile(
    r"(?:https?://)?(?:[a-z0-9*-]+\.)+(?:com|cn|cc|net|top|xyz|vip|org|info|me|io|club|site|cz)"
    r"(?:/[^\s，。！!,]*)?|https?://[^\s，。！!,]+"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def feature_text(text: str, normalized: bool = False) -> str:
    """The normalised text with links and digit runs folded, as the n-grams see it.
    ``normalized``: the caller already applied ``normalize_text``."""
    plain = text if normalized else normalize_text(text)
    return _DIGITS.sub("0", _LINK.sub(LINK_MARK, plain))


def ngrams(text: str, normalized: bool = False) -> set[str]:
    """The set of character n-grams of ``feature_text(text)``; spaces and ends are marked."""
    folded = " " + re.sub(r"\s+", " ", feature_text(text, normalized)).strip() + " "
    grams: set[str] = set()
    for n in NGRAM_SIZES:
        for i in range(len(folded) - n + 1):
            gram = folded[i:i + n]
            if gram.strip():
                grams.add(gram)
    return grams


@dataclass(frozen=True)
class Prediction:
    """``p_fraud`` in [0, 1]; ``fraud_type`` the most likely type and ``p_type`` its probability."""

    p_fraud: float
    fraud_type: str
    p_type: float


class ScamModel:
    """Weights loaded from the shipped file; ``predict`` is pure."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.types: tuple[str, ...] = tuple(data["types"])
        self.fraud_bias: float = float(data["fraud_bias"])
        self.type_bias: tuple[float, ...] = tuple(data["type_bias"])
        # n-gram → [idf, fraud weight, type weights...]
        self.weights: dict[str, list[float]] = data["weights"]
        self.meta: dict[str, Any] = data.get("meta", {})

    def predict(self, text: str, normalized: bool = False,
                type_below: float = 0.0) -> Prediction:
        """``type_below``: skip the type model (fraud_type "other", p_type 0) when p_fraud is
        below it; the check only names a type for texts it warns about, and the type model
        is most of the cost."""
        rows = [self.weights[g] for g in ngrams(text, normalized) if g in self.weights]
        norm = math.sqrt(sum(r[0] * r[0] for r in rows)) or 1.0
        xs = [r[0] / norm for r in rows]
        p_fraud = _sigmoid(self.fraud_bias + sum(x * r[1] for x, r in zip(xs, rows, strict=True)))
        if p_fraud < type_below:
            return Prediction(p_fraud=p_fraud, fraud_type="other", p_type=0.0)
        type_logits = list(self.type_bias)
        for x, row in zip(xs, rows, strict=True):
            for k in range(len(type_logits)):
                type_logits[k] += x * row[2 + k]
        top = max(type_logits)
        exps = [math.exp(v - top) for v in type_logits]
        best = max(range(len(exps)), key=exps.__getitem__)
        return Prediction(p_fraud=p_fraud, fraud_type=self.types[best],
                          p_type=exps[best] / sum(exps))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def load_model(path: Path | None = None) -> ScamModel:
    with gzip.open(path or MODEL_PATH, "rt", encoding="utf-8") as f:
        return ScamModel(json.load(f))


@lru_cache(maxsize=1)
def shipped_model() -> ScamModel | None:
    """The model in the package, or None if the file is absent (the rules then decide alone)."""
    return load_model() if MODEL_PATH.exists() else None
