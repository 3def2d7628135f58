"""Multi-step chat dialogs (e.g. phone binding): state per follower in Redis, with a timeout.

A follower who walks away mid-dialog is not stuck in it: the hash expires and their next text
goes through normal routing again.
"""

from __future__ import annotations

from typing import Any

from store import keys

DEFAULT_TIMEOUT_S = 600
DIALOG_NAME = "name"  # the hash field naming the open dialog


def current_dialog(ctx: Any, openid: str) -> str | None:
    name = ctx.redis.hget(keys.dialog(openid), DIALOG_NAME)
    return str(name) if name else None


def start_dialog(ctx: Any, openid: str, name: str, timeout_s: int = DEFAULT_TIMEOUT_S,
                 **state: str) -> None:
    key = keys.dialog(openid)
    pipe = ctx.redis.pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping={DIALOG_NAME: name, **{k: str(v) for k, v in state.items()}})
    pipe.expire(key, timeout_s)
    pipe.execute()


def dialog_state(ctx: Any, openid: str) -> dict[str, str]:
    return dict(ctx.redis.hgetall(keys.dialog(openid)))


def update_dialog(ctx: Any, openid: str, **state: str) -> None:
    ctx.redis.hset(keys.dialog(openid), mapping={k: str(v) for k, v in state.items()})


# HINCRBY only while the dialog lives: a count must not resurrect an expired dialog as a stub.
_COUNT_IF_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
end
return false
"""


def count_in_dialog(ctx: Any, openid: str, field: str) -> int | None:
    """Add one to a counter of the open dialog atomically; the new count, None when none is open."""
    count = ctx.redis.eval(_COUNT_IF_OPEN, 1, keys.dialog(openid), field)
    return None if count is None else int(count)


def end_dialog(ctx: Any, openid: str) -> None:
    ctx.redis.delete(keys.dialog(openid))


# Delete the hash only while it still names this dialog (another may have replaced it).
_END_IF_NAMED = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def end_dialog_named(ctx: Any, openid: str, name: str) -> None:
    """End the open dialog only if it is ``name``: a command that answers in full what the
    dialog was waiting for closes it, and leaves any other dialog (a half-done binding) alone."""
    ctx.redis.eval(_END_IF_NAMED, 1, keys.dialog(openid), DIALOG_NAME, name)
