"""Redis keys of versioned content edits; to be merged into ``store/keys.py`` by the lead.

All keys share the hash tag ``{content}`` so the save transaction (WATCH history, RPUSH history,
HSET current, INCR revision) runs on one Redis Cluster slot.

| key                                 | type   | TTL  | holds                                         |
|-------------------------------------|--------|------|-----------------------------------------------|
| ``{content}:current``               | hash   | none | field ``<kind>:<id>`` → JSON of latest version |
| ``{content}:history:<kind>:<id>``   | list   | none | JSON versions, oldest first (version = index+1)|
| ``{content}:revision``              | string | none | counter bumped on every save (cache busting)   |
"""

from __future__ import annotations

TAG = "{content}"


def content_current() -> str:
    return f"{TAG}:current"


def content_history(kind: str, item_id: str) -> str:
    return f"{TAG}:history:{kind}:{item_id}"


def content_revision() -> str:
    return f"{TAG}:revision"
