"""The follower directory: who follows, who brought them, and which phone numbers they guard.

Memory matters at a million followers (target ≤ 300 bytes each with one bound number), so
records are not one key per follower (~60 bytes of key overhead alone) but fields in bucketed
hashes small enough to stay listpack-encoded (platform-facts: "Redis memory: small hashes").
Buckets carry their own hash tag, so every bucket is one slot on Redis Cluster.

A follower's record and the phone index live in different buckets (and slots), so they cannot
change in one transaction. Writes go index first, record second, and every read of the index is
checked against the record, so a crash between the two leaves a harmless stale index entry, never
a warning to someone who no longer guards the number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from store import keys
from store.phones import PhoneVault
from store.redis import RedisClient

MAX_GUARDED = 5
OWNER = "owner"
GUARDIAN = "guardian"


@dataclass(frozen=True)
class Follower:
    openid: str
    subscribed: bool
    subscribed_at: int
    officer: str
    community: str
    own_phone: str  # lookup key of the follower's own number, '' if none

    def pack(self) -> str:
        # Kept short: the value must stay under hash-max-listpack-value (64 bytes).
        return "|".join([("1" if self.subscribed else "0"), str(self.subscribed_at),
                         self.officer, self.community, self.own_phone])

    @classmethod
    def unpack(cls, openid: str, packed: str) -> Follower:
        subscribed, since, officer, community, own = (packed.split("|") + [""] * 5)[:5]
        return cls(openid, subscribed == "1", int(since or 0), officer, community, own)


@dataclass(frozen=True)
class Binding:
    role: str        # "owner" or "guardian"
    lookup_key: str
    masked: str      # 138****5678


@dataclass(frozen=True)
class CandidateReads:
    """The followers indexed under one number, whose records were queued on a pipeline: the
    owner's record, then each guardian's record and guarded numbers (``size`` replies)."""

    lookup: str
    owner: str                  # '' when nobody owns the number
    guardians: tuple[str, ...]

    @property
    def size(self) -> int:
        return (1 if self.owner else 0) + 2 * len(self.guardians)

    def recipients(self, replies: list[Any]) -> list[tuple[Follower, str]]:
        """(record, role) of every subscribed follower who still guards the number, owner
        first, each once (pure)."""
        assert len(replies) == self.size
        found: list[tuple[Follower, str]] = []
        rest = iter(replies)
        if self.owner:
            packed = next(rest)
            follower = Follower.unpack(self.owner, packed) if packed else None
            if follower and follower.subscribed and follower.own_phone == self.lookup:
                found.append((follower, OWNER))
        for openid in self.guardians:
            packed, guarded = next(rest), next(rest)
            if any(openid == f.openid for f, _ in found) or not packed:
                continue
            follower = Follower.unpack(openid, packed)
            if follower.subscribed and self.lookup in (json.loads(guarded) if guarded else {}):
                found.append((follower, GUARDIAN))
        return found


@dataclass
class FollowerDirectory:
    redis: RedisClient
    vault: PhoneVault

    # -- follow lifecycle ----------------------------------------------------------------------

    def get(self, openid: str) -> Follower | None:
        packed = self.redis.hget(keys.follower_records(openid), openid)
        return Follower.unpack(openid, packed) if packed else None

    def save(self, follower: Follower) -> None:
        self.redis.hset(keys.follower_records(follower.openid), follower.openid, follower.pack())

    def touch(self, openid: str, now: float) -> None:
        """Record the follower's last action: it opens WeChat's 48 h customer-service window."""
        self.redis.hset(keys.follower_last_active(openid), openid, int(now))

    def last_active(self, openid: str) -> int:
        return int(self.redis.hget(keys.follower_last_active(openid), openid) or 0)

    def erase(self, openid: str) -> None:
        """注销: remove every trace of the follower, including their phone-index entries."""
        for binding in self.bindings(openid):
            self._unindex(binding.lookup_key, openid, binding.role)
        pipe = self.redis.pipeline(transaction=True)
        for key in (keys.follower_records(openid), keys.follower_phone_copies(openid),
                    keys.follower_guarded(openid), keys.follower_last_active(openid)):
            pipe.hdel(key, openid)
        pipe.execute()

    # -- phone bindings ------------------------------------------------------------------------

    def bind_own_phone(self, openid: str, phone: str) -> str:
        """Make ``phone`` (already verified by OTP) this follower's own number."""
        follower = self.get(openid)
        if follower is None:
            raise KeyError("not a follower")
        lookup = self.vault.lookup_key(phone)
        previous_owner = self.redis.hget(keys.phone_owner(lookup), lookup)
        self.redis.hset(keys.phone_owner(lookup), lookup, openid)
        if follower.own_phone and follower.own_phone != lookup:
            self._unindex(follower.own_phone, openid, OWNER)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(keys.follower_records(openid), openid,
                  Follower(**{**follower.__dict__, "own_phone": lookup}).pack())
        pipe.hset(keys.follower_phone_copies(openid), openid, self.vault.encrypt(phone))
        pipe.execute()
        if previous_owner and previous_owner != openid:
            # Whoever proves possession of the number owns it; the old owner's link goes.
            old = self.get(previous_owner)
            if old and old.own_phone == lookup:
                self.save(Follower(**{**old.__dict__, "own_phone": ""}))
                self.redis.hdel(keys.follower_phone_copies(previous_owner), previous_owner)
        return lookup

    def guard_phone(self, openid: str, phone: str) -> str:
        """Add a relative's number (consent verified by OTP to that number)."""
        lookup = self.vault.lookup_key(phone)
        guarded = self._guarded(openid)
        if lookup in guarded:
            return lookup
        if len(guarded) >= MAX_GUARDED:
            raise ValueError("guard limit reached")
        guarded[lookup] = self.vault.encrypt(phone)
        self._add_guardian_index(lookup, openid)
        self.redis.hset(keys.follower_guarded(openid), openid, json.dumps(guarded))
        return lookup

    def unbind(self, openid: str, lookup: str) -> bool:
        """Remove one of the follower's numbers (own or guarded); False if not theirs."""
        follower = self.get(openid)
        if follower and follower.own_phone == lookup:
            self._unindex(lookup, openid, OWNER)
            self.save(Follower(**{**follower.__dict__, "own_phone": ""}))
            self.redis.hdel(keys.follower_phone_copies(openid), openid)
            return True
        guarded = self._guarded(openid)
        if lookup not in guarded:
            return False
        del guarded[lookup]
        self._unindex(lookup, openid, GUARDIAN)
        if guarded:
            self.redis.hset(keys.follower_guarded(openid), openid, json.dumps(guarded))
        else:
            self.redis.hdel(keys.follower_guarded(openid), openid)
        return True

    def bindings(self, openid: str) -> list[Binding]:
        result = []
        follower = self.get(openid)
        if follower and follower.own_phone:
            copy = self.redis.hget(keys.follower_phone_copies(openid), openid)
            masked = self.vault.masked(copy) if copy else "***"
            result.append(Binding(OWNER, follower.own_phone, masked))
        for lookup, copy in self._guarded(openid).items():
            result.append(Binding(GUARDIAN, lookup, self.vault.masked(copy)))
        return result

    def guarded_count(self, openid: str) -> int:
        return len(self._guarded(openid))

    def recipients_for_phone(self, lookup: str) -> list[tuple[str, str]]:
        """(openid, role) of every subscribed follower who guards this number, owner first."""
        pipe = self.redis.pipeline(transaction=False)
        self.phone_index_commands(lookup, pipe)
        owner, guardians = pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        reads = self.candidate_commands(lookup, owner, guardians, pipe)
        return [(f.openid, role) for f, role in reads.recipients(pipe.execute())]

    def phone_index_commands(self, lookup: str, pipe: Any) -> None:
        """Queue the reads of who is indexed under a number: replies (owner, guardians), the
        raw values ``candidate_commands`` takes."""
        pipe.hget(keys.phone_owner(lookup), lookup)
        pipe.hget(keys.phone_guardians(lookup), lookup)

    def candidate_commands(self, lookup: str, owner: str | None, guardians: str | None,
                           pipe: Any) -> CandidateReads:
        """Queue the reads that check each indexed candidate against their own record (the
        index may be stale, see the module docstring); ``CandidateReads.recipients`` takes the
        replies. One round trip for the whole family instead of one or two per person."""
        reads = CandidateReads(lookup, owner or "",
                               tuple(o for o in (guardians or "").split(",") if o))
        if reads.owner:
            pipe.hget(keys.follower_records(reads.owner), reads.owner)
        for openid in reads.guardians:
            pipe.hget(keys.follower_records(openid), openid)
            pipe.hget(keys.follower_guarded(openid), openid)
        return reads

    # -- scanning ------------------------------------------------------------------------------

    def iter_followers(self, subscribed_only: bool = True, group: int = 64) -> Iterator[Follower]:
        """Every follower, streamed bucket by bucket (never all in memory)."""
        for _bucket, followers in self.iter_buckets(group=group):
            for follower in followers:
                if follower.subscribed or not subscribed_only:
                    yield follower

    def iter_buckets(self, start: int = 0, group: int = 64) -> Iterator[tuple[int, list[Follower]]]:
        """(bucket, its followers) for buckets ``start``.. in order.

        One pipelined HGETALL per ``group`` buckets: a bucket holds ~120 followers at 1 M, so a
        round trip per bucket (8192 of them) would cost more than reading the data.
        """
        for first in range(start, keys.FOLLOWER_BUCKETS, group):
            buckets = range(first, min(first + group, keys.FOLLOWER_BUCKETS))
            pipe = self.redis.pipeline(transaction=False)
            for bucket in buckets:
                pipe.hgetall(keys.follower_records_bucket(bucket))
            for bucket, rows in zip(buckets, pipe.execute(), strict=True):
                yield bucket, [Follower.unpack(openid, packed) for openid, packed in rows.items()]

    # -- internals -----------------------------------------------------------------------------

    def _guarded(self, openid: str) -> dict[str, str]:
        raw = self.redis.hget(keys.follower_guarded(openid), openid)
        return dict(json.loads(raw)) if raw else {}

    def _add_guardian_index(self, lookup: str, openid: str) -> None:
        self.redis.eval(_LIST_ADD, 1, keys.phone_guardians(lookup), lookup, openid)

    def _unindex(self, lookup: str, openid: str, role: str) -> None:
        if role == OWNER:
            if self.redis.hget(keys.phone_owner(lookup), lookup) == openid:
                self.redis.hdel(keys.phone_owner(lookup), lookup)
            return
        self.redis.eval(_LIST_REMOVE, 1, keys.phone_guardians(lookup), lookup, openid)


# Comma-separated openid lists in a hash field, changed atomically (two followers may start
# guarding the same parent's number at the same moment).
_LIST_ADD = """
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
for item in string.gmatch(current, '[^,]+') do
  if item == ARGV[2] then return 0 end
end
if current == '' then current = ARGV[2] else current = current .. ',' .. ARGV[2] end
redis.call('HSET', KEYS[1], ARGV[1], current)
return 1
"""

_LIST_REMOVE = """
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
local kept = {}
for item in string.gmatch(current, '[^,]+') do
  if item ~= ARGV[2] then table.insert(kept, item) end
end
if #kept == 0 then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HSET', KEYS[1], ARGV[1], table.concat(kept, ',')) end
return 1
"""
