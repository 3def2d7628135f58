"""Scam check: score a forwarded text, number or link; rules and a trained model side by side.

Pure and offline: the only outside input is the optional ``risk_lookup`` callback the caller
supplies (the risk list lives in Redis, so the handler passes a function that reads it).

Both parts read the text after ``intel.normalize.normalize_text`` (traditional → simplified,
full-width and spaced-out digits and letters closed up, V信/VX/薇 → 微信).

Rules: each fraud type sums the weights of its keywords and patterns found in the text; the
best type plus the shared signals (links, look-alike domains, requests for codes or screen
sharing, urgency, money) minus benign markers (a code SMS saying 请勿泄露, a police reminder,
a parcel pick-up notice) is compared to the threshold in ``content/data/signals.json``. Every
point comes from a phrase found in the text, so the reply can quote its reasons.

Model (``intel.classifier``): the probability that the text is a scam and its likely type,
learnt from character n-grams; it catches the one-line fragments and new wordings no keyword
list foresees. How they combine (docs/scamcheck.md):
- level ``high`` (高度疑似诈骗): a risk-list hit, the rules' threshold, or model ≥ ``model_high``;
- level ``suspicious`` (可疑，请核实): model ≥ ``model_suspicious``;
- level ``none`` (未发现明显特征) otherwise. ``fraud`` is true for high and suspicious.
- benign markers summing to ``benign_veto`` or less (an official warning, a transaction notice)
  with no rules or risk-list finding, or a text shorter than ``model_min_chars`` (a greeting):
  the model alone does not warn.
The type comes from the rules when they found enough of one type, else from the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from content.library import Library
from intel.classifier import ScamModel, shipped_model
from intel.normalize import fold, normalize_text

RiskLookup = Callable[[str], Mapping[str, Any] | None]

# A URL with a scheme, a bare domain (t.cn/xx, etchyhy.com) or a masked one (***.***.cn):
# scam SMS quoted in the press are often masked, and the mask itself still marks a link.
_URL = re.compile(
    r"(?:https?://)?(?:[a-z0-9*-]+\.)+(?:com|cn|cc|net|top|xyz|vip|org|info|me|io|club|site|tw|hk"
    r"|app|shop|link|live|icu)(?![a-z0-9])"
    r"(?:/[^\s，。！!,]*)?|https?://[^\s，。！!,]+",
)
_IP_URL = re.compile(r"(?:https?://)?\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/\S*)?")
_PHONE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)"
                    r"|(?<!\d)(?:0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4}|95\d{3,6})(?!\d)")
_BARE_VALUE = re.compile(r"^\s*(?:查号)?\s*(\S+)\s*$")
_MAX_REASONS = 4
LEVELS = ("high", "suspicious", "none")
# Shipped model unless the caller passes another (tests, the evaluation's cross-source models).
SHIPPED = object()


@dataclass(frozen=True)
class CheckResult:
    """``level`` is high | suspicious | none; ``score`` is the rules' score, ``model_p`` the
    model's fraud probability (None without a model)."""

    fraud: bool
    fraud_type: str | None
    score: float
    reason: str
    level: str = "none"
    model_p: float | None = None
    matched: tuple[str, ...] = ()
    type_name: str | None = None
    advice: tuple[str, ...] = ()
    article_id: str | None = None
    risk_hits: tuple[Mapping[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class _Finding:
    label: str
    weight: float


@lru_cache(maxsize=8)
def _compiled(library: Library) -> dict[str, Any]:
    """Regexes and tables derived from the signals document, built once per library."""
    signals = library.signals
    return {
        "generic": [(re.compile(s["regex"]), float(s["weight"]), s["label"])
                    for s in signals["generic"]],
        "benign": [(re.compile(s["regex"]), float(s["weight"]), s["label"])
                   for s in signals["benign"]],
        "official": tuple(signals["official_domains"]),
        "brands": tuple(signals["lookalike_brands"]),
        # Longest first so "稳赚不赔" is counted and quoted once, not also "稳赚".
        "keywords": {t.id: tuple(sorted(t.keywords, key=len, reverse=True))
                     for t in library.fraud_types},
    }


def normalize(text: str, library: Library | None = None) -> str:
    """The text as the rules read it (see ``intel.normalize.normalize_text``)."""
    return normalize_text(text)


def extract_links(text: str) -> list[str]:
    return [m.group(0) for m in _URL.finditer(text)] + [m.group(0) for m in _IP_URL.finditer(text)]


def extract_numbers(text: str) -> list[str]:
    return [m.group(0) for m in _PHONE.finditer(text)]


def _domain(link: str) -> str:
    host = re.sub(r"^https?://", "", link).split("/", 1)[0]
    return host.split(":", 1)[0]


def _link_findings(text: str, library: Library) -> list[_Finding]:
    signals = library.signals
    tables = _compiled(library)
    findings: list[_Finding] = []
    for link in extract_links(text):
        domain = _domain(link)
        if _IP_URL.fullmatch(link):
            findings.append(_Finding(_label(library, "ip_link", link), signals["ip_link_weight"]))
        elif any(domain == d or domain.endswith("." + d) for d in tables["official"]):
            continue
        elif "*" in domain or re.search(r"(?:^|\.)x{3,}\.", domain):
            # Press quotes mask the domain as ***.cn or xxx.tw: a link all the same.
            findings.append(_Finding(_label(library, "masked_link", link),
                                     signals["masked_link_weight"]))
        elif (any(brand in domain for brand in tables["brands"])
              or re.search(r"l0086|1oo86", domain)):
            findings.append(_Finding(_label(library, "lookalike", domain),
                                     signals["lookalike_weight"]))
        else:
            findings.append(_Finding(_label(library, "link", link), signals["link_weight"]))
    # A second link adds nothing new to the explanation or the risk.
    return findings[:1]


def _type_scores(text: str, library: Library) -> dict[str, tuple[float, list[_Finding]]]:
    scores: dict[str, tuple[float, list[_Finding]]] = {}
    by_length = _compiled(library)["keywords"]
    for fraud_type in library.fraud_types:
        found: list[_Finding] = []
        for word in by_length[fraud_type.id]:
            if word in text and not any(word in f.label for f in found):
                found.append(_Finding(_label(library, "quote", word), fraud_type.keywords[word]))
        for pattern in fraud_type.patterns:
            if pattern.regex.search(text):
                found.append(_Finding(pattern.label, pattern.weight))
        total = sum(f.weight for f in found)
        if total:
            scores[fraud_type.id] = (total, found)
    return scores


def _risk_findings(text: str, risk_lookup: RiskLookup | None) -> list[Mapping[str, Any]]:
    if risk_lookup is None:
        return []
    hits: list[Mapping[str, Any]] = []
    # Whole links: the risk list keys shortener links (t.cn/<path>) by path, others by domain.
    for value in extract_numbers(text) + extract_links(text):
        hit = risk_lookup(value)
        if hit:
            # Quote the list's display form when it has one (numbers masked: replies are cached).
            hits.append({**hit, "value": hit.get("display") or value})
    return hits


def check_text(
    text: str, library: Library, risk_lookup: RiskLookup | None = None,
    model: Any = SHIPPED,
) -> CheckResult:
    """Score ``text``; ``risk_lookup(value)`` may return a risk-list record for a number/URL.
    ``model`` is a ``ScamModel``, None for the rules alone, or by default the shipped one."""
    plain = normalize_text(text)
    signals = library.signals
    tables = _compiled(library)

    scores = _type_scores(plain, library)
    shared: list[_Finding] = _link_findings(plain, library)
    for regex, weight, label in tables["generic"]:
        if regex.search(plain):
            shared.append(_Finding(label, weight))
    benign: list[_Finding] = [
        _Finding(label, weight) for regex, weight, label in tables["benign"] if regex.search(plain)
    ]
    # Folded but not lower-cased: shortener paths are case-sensitive.
    risk_hits = _risk_findings(fold(text), risk_lookup)

    best_id, (best_score, best_found) = max(
        scores.items(), key=lambda kv: kv[1][0], default=("other", (0.0, []))
    )
    total = best_score + sum(f.weight for f in shared) + sum(f.weight for f in benign)
    if risk_hits:
        # A number or site already reviewed as fraud decides on its own.
        total = max(total, float(signals["threshold"])) + 2.0
        listed_type = risk_hits[0].get("fraud_type")
        if best_score < signals["min_type_score"] and listed_type in library.types_by_id:
            best_id = str(listed_type)

    rules_fraud = total >= signals["threshold"]
    typed_by_rules = best_score >= signals["min_type_score"] or bool(risk_hits)
    scam_model = shipped_model() if model is SHIPPED else model
    prediction = (scam_model.predict(plain, normalized=True,
                                     type_below=float(signals["model_suspicious"]))
                  if isinstance(scam_model, ScamModel) else None)
    model_p = prediction.p_fraud if prediction else None
    benign_total = sum(f.weight for f in benign)
    too_short = len(re.sub(r"\s", "", plain)) < int(signals["model_min_chars"])
    if not rules_fraud and not risk_hits and (
            too_short or benign_total <= float(signals["benign_veto"])):
        # A greeting gives the model too little to judge. Or the rules recognised the sender's
        # kind (a warning that says what an institution never does, a transaction notice) and
        # found nothing against it: the model alone, which reads the same scam vocabulary in
        # warnings and notices, does not overrule that.
        model_p_for_level = None
    else:
        model_p_for_level = model_p
    level = _level(rules_fraud, bool(risk_hits), model_p_for_level, signals)
    is_fraud = level != "none"
    if is_fraud and not typed_by_rules:
        # Shared signals alone (a link plus urgency) are enough to warn, not to name a type;
        # the model names one when it is confident enough.
        confident = prediction is not None and prediction.p_type >= signals["model_type_min"]
        best_id = prediction.fraud_type if prediction is not None and confident else "other"

    # Strongest evidence first: that is what the reply quotes.
    evidence = sorted(best_found + shared, key=lambda f: f.weight, reverse=True)
    matched = tuple(
        [_label(library, "risk_hit", str(h["value"])) for h in risk_hits]
        + [f.label for f in evidence if f.weight > 0]
    )
    if is_fraud and not matched and prediction is not None:
        matched = (_label(library, "model", _type_name(library, best_id)),)
    fraud_type = library.fraud_type(best_id) if is_fraud else None
    articles = library.articles_for(best_id) if is_fraud else ()
    return CheckResult(
        fraud=is_fraud,
        fraud_type=fraud_type.id if fraud_type else None,
        score=round(total, 2),
        reason=_reason(matched, benign, is_fraud, library.signals["labels"]["separator"]),
        level=level,
        model_p=round(model_p, 4) if model_p is not None else None,
        matched=matched,
        type_name=fraud_type.name if fraud_type else None,
        advice=fraud_type.what_to_do if fraud_type else (),
        article_id=articles[0].id if articles else None,
        risk_hits=tuple(risk_hits),
    )


def _level(rules_fraud: bool, risk_hit: bool, model_p: float | None,
           signals: Mapping[str, Any]) -> str:
    if risk_hit or rules_fraud or (model_p is not None and model_p >= signals["model_high"]):
        return "high"
    if model_p is not None and model_p >= signals["model_suspicious"]:
        return "suspicious"
    return "none"


def _type_name(library: Library, type_id: str) -> str:
    fraud_type = library.types_by_id.get(type_id)
    return fraud_type.name if fraud_type else type_id


def _label(library: Library, name: str, value: str) -> str:
    return str(library.signals["labels"][name]).format(value=value)


def _reason(
    matched: tuple[str, ...], benign: list[_Finding], is_fraud: bool, separator: str
) -> str:
    """Explanation quoting what was found; all wording comes from signals.json."""
    parts = list(matched[:_MAX_REASONS])
    if not is_fraud and benign:
        parts.append(benign[0].label)
    return separator.join(parts)


def bare_value(text: str) -> str | None:
    """The number or URL when a follower sends only that (or "查号 <value>"), else None."""
    match = _BARE_VALUE.match(fold(text))
    if not match:
        return None
    value = match.group(1)
    if _PHONE.fullmatch(value) or _URL.fullmatch(value.lower()) or _IP_URL.fullmatch(value):
        return value
    return None
