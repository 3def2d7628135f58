"""The alert desk shows every code the alert pipeline writes in Chinese, never the raw code."""

from __future__ import annotations

import re
from pathlib import Path

from alerts.store import CALLBACK_REASONS

PROJECT = Path(__file__).resolve().parents[2]


def _labels(group: str) -> set[str]:
    text = (PROJECT / "console/static/labels.js").read_text(encoding="utf-8")
    body = re.search(group + r":\s*\{(.*?)\}", text, re.S)
    assert body is not None, f"labels.js has no {group} group"
    return set(re.findall(r'"?([a-z_]+)"?\s*:', body.group(1)))


def _written(*patterns: str) -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8")
                       for folder in ("alerts", "api") for p in (PROJECT / folder).glob("*.py"))
    return {code for pattern in patterns for code in re.findall(pattern, source)}


def test_every_callback_reason_has_a_label():
    assert set(CALLBACK_REASONS) - _labels("reason") == set()


def test_every_alert_status_has_a_label():
    statuses = _written(r'fields\["status"\] = "([a-z_]+)"', r'"status", "([a-z_]+)"\)',
                        r'\{"status": "([a-z_]+)"\}', r'status = "([a-z_]+)"')
    assert statuses >= {"received", "warned", "urgent", "unregistered"}
    assert statuses - _labels("status") == set()


def test_every_timeline_event_has_a_label():
    events = _written(r'event="([a-z_]+)"', r'_log\(\s*alert_id,\s*"([a-z_]+)"',
                      r'\{"event": "([a-z_]+)"')
    assert events >= {"received", "sent", "officer_unreachable", "late_answer"}
    assert events - _labels("event") == set()
