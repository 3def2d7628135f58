"""Login throttling per (account, client) pair with growing delays, decided atomically in Redis.

A wrong password must never let an attacker lock ``admin`` out for everyone, so delays apply
to the pair of username and client address (``request.remote_addr`` after the configured
trusted proxy hops, see console.web). Every attempt is counted *before* the password is checked,
in one Lua script that also refuses the attempt while the pair waits out its delay; so a burst
of concurrent guesses is decided one at a time and no more than
``console.login_max_failures_per_pair`` passwords are ever checked before the first delay.

- attempts 1 .. N-1 of a pair within ``console.login_lockout_s``: no delay;
- attempt N and each one after it sets a delay for the next: ``login_first_delay_s``, doubling,
  at most ``login_lockout_s``; a success clears the pair;
- a client address with ``login_max_failures_per_ip`` failures within the window, whatever the
  usernames, is refused (that client only).

All keys share the ``{login}`` hash tag: the script runs on Redis Cluster as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import ConsoleConfig
from store import keys
from store.redis import RedisClient

# KEYS: pair attempts, pair wait marker, client failures.
# ARGV: attempts before delays, first delay ms, max delay ms, window s, client failure limit.
# Returns 0 when the attempt may go ahead, else the milliseconds left to wait.
_ATTEMPT = """
local wait = redis.call('PTTL', KEYS[2])
if wait > 0 then return wait end
local client_failures = tonumber(redis.call('GET', KEYS[3]) or '0')
if client_failures >= tonumber(ARGV[5]) then
  return math.max(redis.call('PTTL', KEYS[3]), 1)
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
local free = tonumber(ARGV[1])
if n >= free then
  local delay = math.min(tonumber(ARGV[2]) * 2 ^ (n - free), tonumber(ARGV[3]))
  redis.call('SET', KEYS[2], '1', 'PX', math.floor(delay))
end
return 0
"""


@dataclass
class LoginThrottle:
    redis: RedisClient
    config: ConsoleConfig

    def _keys(self, username: str, client: str) -> list[str]:
        return [keys.login_attempts(username[:64], client[:64]),
                keys.login_wait(username[:64], client[:64]),
                keys.login_failures_ip(client[:64])]

    def attempt(self, username: str, client: str) -> int:
        """Count one attempt of this pair; 0 when it may check the password, else ms to wait."""
        c = self.config
        return int(self.redis.eval(_ATTEMPT, 3, *self._keys(username, client),
                                   c.login_max_failures_per_pair, c.login_first_delay_s * 1000,
                                   c.login_lockout_s * 1000, c.login_lockout_s,
                                   c.login_max_failures_per_ip))

    def record_failure(self, client: str) -> None:
        """A wrong password from this client (any username): counts towards its own block."""
        key = keys.login_failures_ip(client[:64])
        pipe = self.redis.pipeline(transaction=True)
        # SET NX EX starts the window at the first failure (EXPIRE NX needs Redis 7).
        pipe.set(key, 0, nx=True, ex=self.config.login_lockout_s)
        pipe.incr(key)
        pipe.execute()

    def record_success(self, username: str, client: str) -> None:
        self.redis.delete(*self._keys(username, client)[:2])
