"""What a warning says: template keyword values, customer-service and SMS texts (pure).

Since 2023 WeChat shows only the keyword fields of a category template; ``first`` and ``remark``
are filtered out
(https://developers.weixin.qq.com/community/develop/doc/000a2ae286cdc0f41a8face4c51801).
So the keywords alone must say what is happening, who is calling, and what to do. Keyword
values have per-type length limits (thing ≤ 20 characters, character_string ≤ 32, phone_number
≤ 17, phrase ≤ 5; https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/
mp-message-management/subscribe-message/sendMessage.html),
and an over-long value makes WeChat refuse the whole message, so values are cut to fit.
All wording comes from the content library (replies.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.model import BEIJING

KEYWORD_LIMITS = (("thing", 20), ("character_string", 32), ("phone_number", 17),
                  ("phrase", 5), ("const", 20), ("time", 32), ("number", 32))
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class WarningFacts:
    """Everything a warning mentions, already safe to show (the number is masked)."""

    alert_id: str
    fraud_type: str
    channel: str
    counterpart: str
    risk_level: str
    detected_ms: int
    phone_masked: str
    received_ms: int = 0


def keyword_limit(keyword: str) -> int:
    for prefix, limit in KEYWORD_LIMITS:
        if keyword.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


def fit(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def detected_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _names(library: Any, facts: WarningFacts) -> dict[str, str]:
    return {"type_name": library.fraud_type(facts.fraud_type).name,
            "channel_name": library.reply(f"alert_channel_{facts.channel}")}


def template_values(library: Any, facts: WarningFacts, advice_reply: str) -> dict[str, str]:
    names = _names(library, facts)
    return {
        "what": library.reply("alert_value_what", **names),
        "phone": facts.phone_masked,
        "counterpart": facts.counterpart,
        "detected_at": detected_time(facts.detected_ms),
        "advice": library.reply(advice_reply),
        "risk": library.reply(f"alert_risk_{facts.risk_level}"),
    }


def template_data(mapping: tuple[str, ...], values: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{"thing1": {"value": ...}, ...}`` from config's ``keyword=value`` pairs."""
    data = {}
    for pair in mapping:
        keyword, _, name = pair.partition("=")
        data[keyword] = {"value": fit(values[name], keyword_limit(keyword))}
    return data


def warning_text(library: Any, facts: WarningFacts, role: str, answer_url: str) -> str:
    """The customer-service fallback: a full text, with the answer keywords and the link."""
    return str(library.reply("alert_warning_text", whose=library.reply(f"alert_whose_{role}"),
                             phone_masked=facts.phone_masked, counterpart=facts.counterpart,
                             detected_time=detected_time(facts.detected_ms),
                             answer_url=answer_url, **_names(library, facts)))


def warning_sms(library: Any, facts: WarningFacts, role: str) -> str:
    return str(library.reply("alert_warning_sms", whose=library.reply(f"alert_whose_{role}"),
                             phone_masked=facts.phone_masked, **_names(library, facts)))


def officer_text(library: Any, facts: WarningFacts, reason: str) -> str:
    return str(library.reply("alert_officer_text", reason=library.reply(f"alert_reason_{reason}"),
                             phone_masked=facts.phone_masked, counterpart=facts.counterpart,
                             alert_id=facts.alert_id,
                             detected_time=detected_time(facts.detected_ms),
                             **_names(library, facts)))
