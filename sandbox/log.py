"""In-memory log of every message the account sent, plus each citizen's side of the chat.

Outbound kinds (what a citizen receives): ``template``, ``custom``, ``mass``, ``reply``
(passive reply returned by the webhook) and ``sms``. Chat-only kinds: ``citizen`` (what the
simulated citizen sent or clicked) and ``notice`` (what WeChat itself shows, e.g. the
"service unavailable" line after the webhook failed). Entries carry one increasing ``seq``,
the cursor for polling. The global log is bounded (oldest dropped) so long benchmarks keep a
flat memory profile; counters and duplicate detection stay exact.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

OUTBOUND_KINDS = ("template", "custom", "mass", "reply", "sms")
CHAT_ONLY_KINDS = ("citizen", "notice")
MAX_DUPLICATE_EXAMPLES = 50


@dataclass
class LogEntry:
    """One message; ``received_at_ms`` is real wall time (latency benchmarks), not the sim clock."""

    seq: int
    kind: str
    openid: str | None
    payload: dict[str, Any]
    received_at_ms: int
    msgid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "openid": self.openid,
                "payload": self.payload, "received_at_ms": self.received_at_ms,
                "msgid": self.msgid}


def _fingerprint(kind: str, dedup_on: Any) -> str:
    text = json.dumps(dedup_on, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return kind + ":" + hashlib.sha1(text.encode("utf-8")).hexdigest()


class MessageLog:
    """Not thread-safe on its own: ``SandboxState`` calls it under its lock."""

    def __init__(self, max_messages: int = 100_000, max_per_openid: int = 2_000) -> None:
        self._max_messages = max_messages
        self._max_per_openid = max_per_openid
        self.clear()

    def clear(self) -> None:
        self._seq = 0
        self._outbound: deque[LogEntry] = deque(maxlen=self._max_messages)
        self._chats: dict[str, deque[LogEntry]] = {}
        self._unowned_sms: dict[str, list[LogEntry]] = {}
        self._counts: dict[str, int] = {}
        self._seen: dict[str, int] = {}
        self._duplicates: dict[str, int] = {}
        self._examples: list[dict[str, Any]] = []

    @property
    def last_seq(self) -> int:
        return self._seq

    def add(self, kind: str, openid: str | None, payload: dict[str, Any],
            msgid: int | None = None, dedup_on: Any = None) -> LogEntry:
        """Append one entry; ``dedup_on`` (JSON-able) marks what makes a repeat a duplicate."""
        self._seq += 1
        entry = LogEntry(self._seq, kind, openid, payload, int(time.time() * 1000), msgid)
        if kind in OUTBOUND_KINDS:
            self._outbound.append(entry)
            self._counts[kind] = self._counts.get(kind, 0) + 1
            if dedup_on is not None:
                self._count_duplicate(entry, _fingerprint(kind, dedup_on))
        if openid is not None:
            self._chat(openid).append(entry)
        elif kind == "sms":
            self._unowned_sms.setdefault(payload["phone"], []).append(entry)
        return entry

    def _chat(self, openid: str) -> deque[LogEntry]:
        chat = self._chats.get(openid)
        if chat is None:
            chat = self._chats[openid] = deque(maxlen=self._max_per_openid)
        return chat

    def _count_duplicate(self, entry: LogEntry, fingerprint: str) -> None:
        seen = self._seen.get(fingerprint, 0) + 1
        self._seen[fingerprint] = seen
        if seen > 1:
            self._duplicates[entry.kind] = self._duplicates.get(entry.kind, 0) + 1
            if seen == 2 and len(self._examples) < MAX_DUPLICATE_EXAMPLES:
                self._examples.append({"kind": entry.kind, "openid": entry.openid,
                                       "seq": entry.seq, "payload": entry.payload})

    def give_sms_to(self, phone: str, openid: str) -> None:
        """A citizen claimed ``phone``: earlier unowned texts to it show on their phone too."""
        entries = self._unowned_sms.pop(phone, [])
        if not entries:
            return
        for entry in entries:
            entry.openid = openid
        chat = self._chat(openid)
        merged = sorted([*chat, *entries], key=lambda e: e.seq)
        chat.clear()
        chat.extend(merged)

    def query(self, openid: str | None = None, kinds: Iterable[str] = OUTBOUND_KINDS,
              since: int = 0, limit: int = 1000) -> list[LogEntry]:
        """Entries with ``seq > since``, oldest first, at most ``limit``."""
        wanted = set(kinds)
        source = self._chats.get(openid, ()) if openid is not None else self._outbound
        newer: list[LogEntry] = []
        for entry in reversed(source):
            if entry.seq <= since:
                break
            if entry.kind in wanted:
                newer.append(entry)
        newer.reverse()
        return newer[:limit]

    def count(self, openid: str, kinds: Iterable[str] = OUTBOUND_KINDS) -> int:
        wanted = set(kinds)
        return sum(1 for e in self._chats.get(openid, ()) if e.kind in wanted)

    def stats(self) -> dict[str, Any]:
        return {"counts": {k: self._counts.get(k, 0) for k in OUTBOUND_KINDS},
                "total": sum(self._counts.values()),
                "duplicates": {k: self._duplicates.get(k, 0) for k in OUTBOUND_KINDS},
                "duplicate_examples": list(self._examples),
                "last_seq": self._seq,
                "retained": len(self._outbound)}
