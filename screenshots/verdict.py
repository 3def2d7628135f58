"""From recognised lines to the answer the citizen gets (pure: plain values in, reply out).

The whole text is scored by the same scam check as a forwarded text, so a screenshot and its
text get the same verdict. The reply then quotes the lines that carry the evidence: each line
is scored on its own and the ones with positive findings (a keyword, a link, a number on the risk
list...) are quoted, strongest first, at most ``MAX_QUOTED_LINES``, each cut to
``MAX_LINE_CHARS`` so the message stays readable on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from content.library import Library
from intel.scamcheck import CheckResult, RiskLookup, check_text

MAX_QUOTED_LINES = 3
MAX_LINE_CHARS = 60
MAX_ADVICE = 2


@dataclass(frozen=True)
class Verdict:
    reply: str  # the reply's name in content/data/replies.json
    fields: dict[str, Any]
    result: CheckResult | None
    quoted: tuple[str, ...] = ()


def suspicious_lines(lines: Sequence[str], library: Library,
                     risk_lookup: RiskLookup | None = None) -> list[str]:
    """Lines with evidence of their own, strongest first (reading order breaks ties)."""
    scored = []
    for index, line in enumerate(lines):
        result = check_text(line, library, risk_lookup=risk_lookup)
        if result.matched:
            scored.append((-result.score, index, line))
    scored.sort()
    return [line for _, _, line in scored[:MAX_QUOTED_LINES]]


def _clip(line: str) -> str:
    return line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS - 1] + "…"


def article_link(public_url: str, library: Library, result: CheckResult) -> str:
    base = public_url.rstrip("/")
    if result.article_id:
        return f"{base}/articles/{result.article_id}"
    articles = library.articles_for(result.fraud_type or "other")
    return f"{base}/articles/{articles[0].id}" if articles else base


def judge(lines: Sequence[str], library: Library, public_url: str,
          risk_lookup: RiskLookup | None = None) -> Verdict:
    """The verdict on a screenshot's lines (in reading order)."""
    if not lines:
        return Verdict("screenshot_no_text", {}, None)
    result = check_text("\n".join(lines), library, risk_lookup=risk_lookup)
    if not result.fraud or result.fraud_type is None:
        return Verdict("screenshot_clean", {"line_count": len(lines)}, result)
    # Evidence may only appear across lines (a keyword split by a wrap): quote the start then.
    quoted = tuple(suspicious_lines(lines, library, risk_lookup) or lines[:MAX_QUOTED_LINES])
    fields = {
        "type_name": result.type_name, "reason": result.reason,
        "lines": "\n".join(f"「{_clip(line)}」" for line in quoted),
        "advice": "；".join(result.advice[:MAX_ADVICE]),
        "article_url": article_link(public_url, library, result),
    }
    return Verdict("screenshot_fraud", fields, result, quoted)
