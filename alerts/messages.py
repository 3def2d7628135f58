"""What a warning says: template keyword values, customer-service and SMS texts (pure).

Since 2023 WeChat shows only the keyword fields of a category template; ``first`` and ``remark``
are filtered out
(https://developers.weixin.qq.com/community/develop/doc/000a2ae286cdc0f41a8face4c51801).
So the keywords alone must say what is happening, who is calling, and what to do.
Each keyword is typed by its name (``thing1``, ``character_string3``) and WeChat refuses the
whole message (47003 "argument invalid") when one value is outside its type: a ``thing`` over
20 characters, a ``character_string`` with Chinese in it, a ``phone_number`` with letters, a
``time`` in another format... (parameter table in "发送订阅通知",
https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html). Values built
from platform data (an app name in Chinese, a long URL) are therefore converted to their
keyword's type by ``fit_keyword`` before the send. All wording comes from the content library
(replies.json).
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.model import BEIJING

_TYPED_KEYWORD = re.compile(r"([a-z_]+?)\d+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_SYMBOLS = frozenset(string.punctuation)
_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
# The placeholder for a value with nothing left of its type (a symbol: valid for every type
# that allows symbols).
BLANK = "-"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%H:%M")
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


def fit_keyword(keyword: str, value: str) -> str:
    """``value`` converted so WeChat accepts it for ``keyword``'s type (never empty).

    Full-width forms are folded first (NFKC: ``１３８`` → ``138``), control characters dropped;
    then each type keeps what it may hold and is cut to its length. Keywords outside the typed
    table (``keyword1`` of pre-2023 templates) are only cut to 20 characters. Raises ValueError
    for a ``time``/``date`` that is not one of ours, a ``phrase`` with no Chinese in it or a
    ``car_number`` with no letters or digits: those
    are mistakes in alerts.template_fields, not in the platform's data.
    """
    match = _TYPED_KEYWORD.fullmatch(keyword)
    kind = match.group(1) if match else ""
    text = "".join(c for c in unicodedata.normalize("NFKC", value)
                   if unicodedata.category(c)[0] != "C")
    if kind in ("time", "date"):
        return _fit_time(text.strip(), with_clock=kind == "time")
    if kind == "character_string":
        return _cut_ascii("".join(c for c in text if c in _LETTERS | _DIGITS | _SYMBOLS), 32)
    if kind == "phone_number":
        return _cut_ascii("".join(c for c in text if c in _DIGITS | _SYMBOLS), 17)
    if kind == "number":
        whole, _, fraction = text.partition(".")
        digits = "".join(c for c in whole if c in _DIGITS)[:32] or "0"
        fraction = "".join(c for c in fraction if c in _DIGITS)[: 31 - len(digits)]
        return digits + ("." + fraction if fraction else "")
    if kind == "letter":
        return "".join(c for c in text if c in _LETTERS)[:32] or "x"
    if kind == "symbol":
        return "".join(c for c in text if c in _SYMBOLS)[:5] or BLANK
    if kind == "amount":
        number = fit_keyword("number1", text)
        whole, _, fraction = number.partition(".")
        return "¥" + whole[-10:] + ("." + fraction[:2] if fraction else "")
    if kind == "phrase":
        han = "".join(_HAN.findall(text))[:5]
        if not han:
            raise ValueError(f"{keyword}: a phrase needs Chinese characters, got {value!r}")
        return han
    if kind == "name":
        if _HAN.search(text):
            kept = "".join(c for c in text if _HAN.match(c) or c in _LETTERS | _SYMBOLS)
            return kept[:10]
        return "".join(c for c in text if c in _LETTERS | _SYMBOLS)[:20] or BLANK
    if kind == "car_number":
        plate = [c for c in text if c in _LETTERS | _DIGITS or _HAN.match(c)]
        if not plate:
            raise ValueError(f"{keyword}: no plate number in {value!r}")
        return (plate[0] + "".join(c for c in plate[1:] if c in _LETTERS | _DIGITS))[:8]
    # thing, and untyped legacy keywords: any printable text, ≤ 20 characters.
    return _cut(" ".join(text.split()), 20) or BLANK


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _cut_ascii(value: str, limit: int) -> str:
    # "…" is not ASCII: a cut character_string ends in "..." instead.
    if not value:
        return BLANK
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _fit_time(value: str, with_clock: bool) -> str:
    for fmt in _TIME_FORMATS:
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if fmt == "%H:%M":
            return value if with_clock else moment.strftime("%Y年%m月%d日")
        return moment.strftime("%Y年%m月%d日 %H:%M" if with_clock else "%Y年%m月%d日")
    raise ValueError(f"not a time we format: {value!r}")


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
        data[keyword] = {"value": fit_keyword(keyword, values[name])}
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
