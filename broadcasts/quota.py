"""Per-follower monthly mass-send counters, and the allowance check every run starts with.

服务号 followers receive at most 4 mass sends per natural month; WeChat silently filters the
rest (platform-facts, "Mass send"). We keep our own count per follower so a run that would exceed
the allowance is refused, with the reason shown to staff, before anything goes out. Counters are
fields in per-bucket, per-month hashes ``bq:{f:<b>}:<yyyymm>`` beside the follower records, so
the check reads them in the same pipelined pass over the audience (no extra round trips), and
they expire after the month is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from broadcasts.audience import Member
from store import keys
from store.redis import RedisClient

# Kept a month past the month's end so last month's figures can still be inspected.
EXTRA_TTL_S = 31 * 24 * 3600


@dataclass(frozen=True)
class AllowanceCheck:
    audience: int
    over_allowance: int  # members who already had ``allowance`` mass sends this month
    allowance: int

    @property
    def refusal(self) -> str | None:
        """Why the run must not go out, or None."""
        if self.audience == 0:
            return "audience is empty: no subscribed follower matches"
        if self.over_allowance:
            return (f"{self.over_allowance} of {self.audience} followers in the audience already "
                    f"received {self.allowance} mass sends this month (allowance "
                    f"{self.allowance} per follower); the send would exceed it")
        return None


def check(members: Iterable[Member], allowance: int) -> AllowanceCheck:
    audience = over = 0
    for member in members:
        audience += 1
        if member.mass_count >= allowance:
            over += 1
    return AllowanceCheck(audience, over, allowance)


def record_sent(redis: RedisClient, openids: list[str], month: str, ttl_s: int) -> None:
    """Count one more mass send for each follower (one pipeline per batch)."""
    pipe = redis.pipeline(transaction=False)
    touched = set()
    for openid in openids:
        key = keys.mass_quota(openid, month)
        pipe.hincrby(key, openid, 1)
        touched.add(key)
    for key in touched:
        pipe.expire(key, ttl_s + EXTRA_TTL_S)
    pipe.execute()
