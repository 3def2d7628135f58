"""Training the scam classifier (needs the ``train`` extra: scikit-learn). Not used at run time.

``train(items)`` returns the weights document that ``intel.classifier.ScamModel`` loads; the
same function serves ``scripts/train_scam_model.py`` (the shipped file) and
``benchmarks/classifier_eval.py`` (models trained on one source and tested on another).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from intel.classifier import ngrams

_CLAUSE = re.compile(r"[，。！？；,!?;]+")
MIN_FRAGMENT_CHARS = 8


def augment(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items, plus a traditional-character copy of each and a fragment copy (its longest
    clause) of each text with several clauses: followers forward single lines, often from Hong
    Kong or Taiwan contacts."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    out = list(items)
    for item in items:
        out.append({**item, "text": s2t.convert(item["text"]), "augmented": "s2t"})
        clauses = [c for c in _CLAUSE.split(item["text"]) if len(c) >= MIN_FRAGMENT_CHARS]
        if len(clauses) >= 2:
            out.append({**item, "text": max(clauses, key=len), "augmented": "fragment"})
    return out


def train(items: list[dict[str, Any]], *, c_fraud: float = 4.0, c_type: float = 8.0,
          min_df: int = 2) -> dict[str, Any]:
    """Fit both models on ``items`` (already augmented as wanted) and return the weights."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    grams = [ngrams(item["text"]) for item in items]
    df = Counter(g for gs in grams for g in gs)
    vocab = sorted(g for g, n in df.items() if n >= min_df)
    index = {g: i for i, g in enumerate(vocab)}
    n_docs = len(items)
    # Smoothed IDF, as scikit-learn's TfidfVectorizer computes it.
    idf = [math.log((1 + n_docs) / (1 + df[g])) + 1.0 for g in vocab]

    def matrix(rows: list[set[str]]) -> Any:
        data: list[float] = []
        cols: list[int] = []
        ptr = [0]
        for gs in rows:
            ids = sorted(index[g] for g in gs if g in index)
            norm = math.sqrt(sum(idf[i] ** 2 for i in ids)) or 1.0
            cols.extend(ids)
            data.extend(idf[i] / norm for i in ids)
            ptr.append(len(cols))
        return csr_matrix((data, cols, ptr), shape=(len(rows), len(vocab)))

    x = matrix(grams)
    y_fraud = [1 if item["label"] == "fraud" else 0 for item in items]
    fraud_model = LogisticRegression(C=c_fraud, class_weight="balanced", max_iter=2000)
    fraud_model.fit(x, y_fraud)

    fraud_rows = [i for i, item in enumerate(items) if item["label"] == "fraud"]
    types = sorted({items[i]["fraud_type"] for i in fraud_rows})
    type_model = LogisticRegression(C=c_type, class_weight="balanced", max_iter=2000)
    type_model.fit(x[fraud_rows], [types.index(items[i]["fraud_type"]) for i in fraud_rows])
    type_coef = type_model.coef_
    type_bias = list(type_model.intercept_)
    if len(types) == 2:  # scikit-learn keeps one row for two classes
        type_coef = [-type_coef[0], type_coef[0]]
        type_bias = [-type_bias[0], type_bias[0]]

    weights = {
        g: [round(idf[i], 4), round(float(fraud_model.coef_[0][i]), 4)]
        + [round(float(row[i]), 4) for row in type_coef]
        for g, i in index.items()
    }
    return {
        "types": types,
        "fraud_bias": round(float(fraud_model.intercept_[0]), 4),
        "type_bias": [round(float(b), 4) for b in type_bias],
        "weights": weights,
        "meta": {"items": n_docs, "vocabulary": len(vocab), "c_fraud": c_fraud,
                 "c_type": c_type, "min_df": min_df},
    }
