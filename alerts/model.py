"""What an alert is, how one is validated, and the small decisions about it (pure functions).

An alert comes from the warning platform: a registered (or not) mobile number is being targeted
right now by a fraud call, SMS, app or URL. Validation collects every field error, so a 422 tells
the platform all that is wrong at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from store.phones import InvalidPhone, normalize_mobile

CHANNELS = ("call", "sms", "app", "url")
RISK_LEVELS = ("low", "medium", "high")
HIGH_RISK = "high"
FIELDS = ("alert_id", "phone", "fraud_type", "channel", "counterpart", "risk_level",
          "detected_at", "source")
ALERT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_COUNTERPART_CHARS = 512
MAX_REPORTED_UNKNOWN = 10  # an item with 10,000 junk keys gets a short answer

# One-tap answers (anchored: "1" inside a longer message is not an answer).
SAFE_ANSWER = re.compile(r"^(1|安全|已挂断)$")
PAID_ANSWER = re.compile(r"^(2|已转账|需要帮助)$")
SAFE, PAID = "safe", "paid"
MAX_ANSWER_CHARS = 64  # longer texts are never a one-tap answer (and skip NFKC)
BEIJING = timezone(timedelta(hours=8))

# The stop-payment checklist of an urgent ("已转账") case, in the order staff work through it;
# labels are in content (replies.json, alert_checklist_<id>).
CHECKLIST = ("call_citizen", "collect_transfer", "stop_payment", "freeze_account", "file_case")


@dataclass(frozen=True)
class Alert:
    alert_id: str
    phone: str  # plain, normalised; only ever in memory
    fraud_type: str
    channel: str
    counterpart: str
    risk_level: str
    detected_ms: int
    source: str


@dataclass(frozen=True)
class FieldError:
    field: str
    error: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "error": self.error}


# Detection times we accept, unix seconds: from 2000-01-01 to 2100-01-01. Anything outside is a
# unit mistake (ms sent as s) or hostile (1e400 parses to inf, 10**400 overflows a float).
EARLIEST_DETECTED_S = 946_684_800
LATEST_DETECTED_S = 4_102_444_800
MAX_ISO_CHARS = 40


def parse_detected_at(value: Any) -> int:
    """Unix seconds (int or float) or ISO 8601 with a UTC offset → unix ms; ValueError else.

    Never raises anything but ValueError, whatever JSON delivered (NaN, inf, 10**400, lists).
    """
    if isinstance(value, bool):
        raise ValueError("must be unix seconds or an ISO 8601 time with offset")
    if isinstance(value, (int, float)):
        # Compare before converting: int(inf) and float(10**400) raise OverflowError.
        if not EARLIEST_DETECTED_S <= value <= LATEST_DETECTED_S:  # NaN fails this too
            raise ValueError("unix seconds between 2000-01-01 and 2100-01-01")
        return round(float(value) * 1000)
    if isinstance(value, str):
        if len(value) > MAX_ISO_CHARS:
            raise ValueError("not an ISO 8601 time")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("not an ISO 8601 time") from None
        if parsed.tzinfo is None:
            raise ValueError("ISO 8601 time needs a UTC offset, e.g. +08:00")
        seconds = parsed.timestamp()
        if not EARLIEST_DETECTED_S <= seconds <= LATEST_DETECTED_S:
            raise ValueError("a time between 2000-01-01 and 2100-01-01")
        return round(seconds * 1000)
    raise ValueError("must be unix seconds or an ISO 8601 time with offset")


def validate_alert(raw: Any, *, fraud_types: Iterable[str], source: str, now: float,
                   max_future_s: int = 300) -> tuple[Alert | None, list[FieldError]]:
    """An ``Alert`` or every problem found; ``source`` is the signed source of the request."""
    if not isinstance(raw, dict):
        return None, [FieldError("", "each alert must be a JSON object")]
    errors: list[FieldError] = []

    def text(name: str) -> str:
        value = raw.get(name)
        if value is None or value == "":
            errors.append(FieldError(name, "required"))
            return ""
        if not isinstance(value, str):
            errors.append(FieldError(name, "must be a string"))
            return ""
        return value.strip()

    for unknown in sorted(set(raw) - set(FIELDS))[:MAX_REPORTED_UNKNOWN]:
        errors.append(FieldError(unknown[:64], "unknown field"))
    alert_id = text("alert_id")
    if alert_id and not ALERT_ID.fullmatch(alert_id):
        errors.append(FieldError("alert_id", "1-64 characters of A-Z a-z 0-9 _ . : -"))
    phone = text("phone")
    if phone:
        try:
            phone = normalize_mobile(phone)
        except InvalidPhone:
            errors.append(FieldError("phone", "not a mainland mobile number"))
    fraud_type = text("fraud_type")
    known_types = set(fraud_types)
    if fraud_type and fraud_type not in known_types:
        errors.append(FieldError("fraud_type", f"one of {', '.join(sorted(known_types))}"))
    channel = text("channel")
    if channel and channel not in CHANNELS:
        errors.append(FieldError("channel", f"one of {', '.join(CHANNELS)}"))
    counterpart = text("counterpart")
    if len(counterpart) > MAX_COUNTERPART_CHARS:
        errors.append(FieldError("counterpart", f"at most {MAX_COUNTERPART_CHARS} characters"))
    risk_level = text("risk_level")
    if risk_level and risk_level not in RISK_LEVELS:
        errors.append(FieldError("risk_level", f"one of {', '.join(RISK_LEVELS)}"))
    detected_ms = 0
    if raw.get("detected_at") is None or raw.get("detected_at") == "":
        errors.append(FieldError("detected_at", "required"))
    else:
        try:
            detected_ms = parse_detected_at(raw["detected_at"])
            if detected_ms > (now + max_future_s) * 1000:
                errors.append(FieldError("detected_at", "is in the future"))
        except ValueError as exc:
            errors.append(FieldError("detected_at", str(exc)))
    body_source = text("source")
    if body_source and body_source != source:
        errors.append(FieldError("source", "must equal the signed X-Alert-Source"))
    if errors:
        return None, errors
    return Alert(alert_id, phone, fraud_type, channel, counterpart, risk_level, detected_ms,
                 source), []


def classify_answer(text: str) -> str | None:
    """"safe", "paid" or None for a follower's reply text."""
    if len(text or "") > MAX_ANSWER_CHARS:
        return None
    # NFKC: a Chinese input method types "２"; it is the same answer as "2".
    content = unicodedata.normalize("NFKC", text or "").strip()
    if SAFE_ANSWER.match(content):
        return SAFE
    if PAID_ANSWER.match(content):
        return PAID
    return None


def deadline_ms(sent_ms: int, answer_timeout_s: int) -> int:
    return sent_ms + answer_timeout_s * 1000


def day_of(ms: int) -> str:
    """Beijing-time calendar day (yyyymmdd) of a unix-ms instant: counts are per local day."""
    return datetime.fromtimestamp(ms / 1000, BEIJING).strftime("%Y%m%d")
