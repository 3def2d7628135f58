"""Login throttling: too many failures lock a username, and (at a higher limit) an IP address.

Both counters are plain strings with a TTL of ``console.login_lockout_s`` set by the first failure,
so the window and the lockout are the same length and a lock lifts by itself. They share the
``{login}`` hash tag, so one failed attempt updates both in one MULTI on Redis Cluster too.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import ConsoleConfig
from store import keys
from store.redis import RedisClient


@dataclass
class LoginThrottle:
    redis: RedisClient
    config: ConsoleConfig

    def _keys(self, username: str, ip: str) -> list[str]:
        return [keys.login_failures_user(username[:64]), keys.login_failures_ip(ip)]

    def is_blocked(self, username: str, ip: str) -> bool:
        user_failures, ip_failures = self.redis.mget(self._keys(username, ip))
        return (int(user_failures or 0) >= self.config.login_max_failures_per_user
                or int(ip_failures or 0) >= self.config.login_max_failures_per_ip)

    def record_failure(self, username: str, ip: str) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for key in self._keys(username, ip):
            # SET NX EX starts the window at the first failure (EXPIRE NX needs Redis 7).
            pipe.set(key, 0, nx=True, ex=self.config.login_lockout_s)
            pipe.incr(key)
        pipe.execute()

    def record_success(self, username: str) -> None:
        self.redis.delete(keys.login_failures_user(username[:64]))
