"""The risk list: numbers, links and domains seen in fraud, fed by alerts and reviewed reports.

Each value is one Redis hash (``store.keys.risk_entry``) holding how often it was seen, when
first and last, a count per fraud type and per source, and whether staff confirmed it. The key is
a digest of the normalised value, so ``+86 138-1234-5678`` and ``13812345678`` meet, as do
``https://www.Fake-ETC.cn/x`` and ``fake-etc.cn``. Numbers are not kept in plain text: the hash
stores a masked form for display (the one who asks already knows the number), and the digest is
keyed (HMAC with ``risk_key``, derived from the phone lookup key), because a plain digest of a
number is no secret: the 10^10 possible numbers can be hashed in minutes. Alert intake, the bot
and the console all run with the same configuration, so they agree on the key; rotating
``privacy.phone_hmac_key`` starts a new list (docs/deploy.md).

All writes touch a single key, so they are cluster-safe without a hash tag.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from config import PrivacyConfig
from intel.normalize import fold
from store import keys
from store.phones import InvalidPhone, mask, normalize_mobile
from store.redis import RedisClient

# Shortener links share one host, so the path is what identifies the scam page.
SHORTENER_HOSTS = frozenset({"t.cn", "url.cn", "dwz.cn", "suo.im", "bit.ly", "tinyurl.com",
                             "w.url.cn", "s.tb.cn", "u.nu"})
_SEPARATORS = re.compile(r"[\s\-()（）]")
_NUMBER = re.compile(r"^\+?[0-9]{5,16}$")
# Masked hosts (***.***.cn, as quoted in the press) cannot be looked up, so they do not match.
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$"
                   r"|^\d{1,3}(?:\.\d{1,3}){3}$")
_TYPE_ID = re.compile(r"^[a-z_]{1,32}$")
_SOURCE = re.compile(r"^[a-z0-9_.:-]{1,32}$")

# Raise last_seen only forwards: alerts may arrive out of order.
_RECORD = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
redis.call('HINCRBY', key, 'count', 1)
redis.call('HSETNX', key, 'first_seen', ARGV[1])
redis.call('HSETNX', key, 'kind', ARGV[2])
redis.call('HSETNX', key, 'display', ARGV[3])
local last = tonumber(redis.call('HGET', key, 'last_seen') or '0')
if now > last then redis.call('HSET', key, 'last_seen', ARGV[1]) end
local first = tonumber(redis.call('HGET', key, 'first_seen'))
if now < first then redis.call('HSET', key, 'first_seen', ARGV[1]) end
redis.call('HINCRBY', key, 'type:' .. ARGV[4], 1)
redis.call('HINCRBY', key, 'src:' .. ARGV[5], 1)
return redis.call('HGET', key, 'count')
"""


@dataclass(frozen=True)
class Normalized:
    """A value in canonical form: kind is mobile | number | domain | url."""

    kind: str
    value: str

    def digest(self, key: bytes) -> str:
        return hmac.new(key, f"{self.kind}:{self.value}".encode(),
                        hashlib.sha256).hexdigest()[:32]

    @property
    def display(self) -> str:
        if self.kind == "mobile":
            return mask(self.value)
        if self.kind == "number":
            return self.value[:3] + "****" + self.value[-2:] if len(self.value) > 6 else "****"
        return self.value


@lru_cache(maxsize=4)
def risk_key(privacy: PrivacyConfig) -> bytes:
    """The risk list's digest key: derived from the phone lookup key, never equal to it (kept
    per configuration: every checked text and alert asks for it)."""
    return hmac.new(privacy.phone_hmac_key.encode("utf-8"), b"endfraud risk list v1",
                    hashlib.sha256).digest()


def normalize(value: str) -> Normalized | None:
    """Canonical form of a phone number, URL or domain; None for anything else."""
    text = fold(value or "").strip()
    if not text or len(text) > 512:
        return None
    try:
        return Normalized("mobile", normalize_mobile(text))
    except InvalidPhone:
        pass
    digits = _SEPARATORS.sub("", text)
    if _NUMBER.match(digits):
        for prefix in ("+86", "0086"):
            if digits.startswith(prefix):
                digits = "0" + digits[len(prefix):].lstrip("0")
                break
        return Normalized("number", digits)
    return _normalize_link(text)


def _normalize_link(text: str) -> Normalized | None:
    rest = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    host, _, path = rest.partition("/")
    host = host.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    # Hosts are case-insensitive; shortener paths are not (t.cn/A6aBc ≠ t.cn/a6abc).
    host = host.split(":", 1)[0].rstrip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    if not _HOST.match(host):
        return None
    if host in SHORTENER_HOSTS:
        path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
        if path:
            return Normalized("url", f"{host}/{path}")
    return Normalized("domain", host)


def record_counterpart(redis: RedisClient, key: bytes, value: str, fraud_type: str,
                       source: str, now: float) -> int | None:
    """Count one sighting of ``value`` (from an alert or a reviewed report); returns the new count,
    or None when the value is not a number, URL or domain."""
    pipe = redis.pipeline(transaction=False)
    if not record_counterpart_commands(pipe, key, value, fraud_type, source, now):
        return None
    (count,) = pipe.execute()
    return int(count)


def record_counterpart_commands(pipe: Any, key: bytes, value: str, fraud_type: str,
                                source: str, now: float) -> bool:
    """``record_counterpart`` queued on the caller's pipeline (its reply is the new count);
    False, with nothing queued, when the value is not a number, URL or domain.

    EVAL rather than EVALSHA: a pipeline cannot recover from NOSCRIPT (e.g. after a restart)."""
    normalized = normalize(value)
    if normalized is None:
        return False
    fraud_type = fraud_type if _TYPE_ID.match(fraud_type or "") else "other"
    source = (source or "").lower()
    source = source if _SOURCE.match(source) else "other"
    pipe.execute_command("EVAL", _RECORD, 1, keys.risk_entry(normalized.digest(key)),
                         str(int(now)),
                         normalized.kind, normalized.display, fraud_type, source)
    return True


def promote(redis: RedisClient, key: bytes, value: str, fraud_type: str, reviewer: str,
            now: float, clue_id: str = "") -> int | None:
    """A reviewed clue enters the list as a confirmed sighting (staff confirmed it)."""
    normalized = normalize(value)
    if normalized is None:
        return None
    count = record_counterpart(redis, key, value, fraud_type, "report", now)
    redis.hset(keys.risk_entry(normalized.digest(key)),
               mapping={"confirmed_by": reviewer, "confirmed_at": str(int(now)),
                        "confirmed_clue": clue_id})
    return count


def lookup(redis: RedisClient, key: bytes, value: str) -> dict[str, Any] | None:
    """How often ``value`` was seen, first/last seen (unix s), main fraud type; None if never."""
    normalized = normalize(value)
    if normalized is None:
        return None
    raw = redis.hgetall(keys.risk_entry(normalized.digest(key)))
    if not raw:
        return None
    return summarize(raw)


def summarize(raw: dict[str, str]) -> dict[str, Any]:
    """The stored hash as a plain record (pure)."""
    types = {k[5:]: int(v) for k, v in raw.items() if k.startswith("type:")}
    sources = {k[4:]: int(v) for k, v in raw.items() if k.startswith("src:")}
    # Most frequent type; ties go to the alphabetically first, so the answer is stable.
    main_type = min(types, key=lambda t: (-types[t], t)) if types else "other"
    return {
        "kind": raw.get("kind", ""),
        "display": raw.get("display", ""),
        "count": int(raw.get("count", 0)),
        "first_seen": int(raw.get("first_seen", 0)),
        "last_seen": int(raw.get("last_seen", 0)),
        "fraud_type": main_type,
        "fraud_types": types,
        "sources": sources,
        "confirmed": bool(raw.get("confirmed_by")),
    }


def lookup_fn(redis: RedisClient, key: bytes) -> Any:
    """``risk_lookup`` for ``intel.scamcheck.check_text``: value → record or None."""
    return lambda value: lookup(redis, key, value)
