"""The wechatpy client bound to our config: one code path for the sandbox and production.

Three things wechatpy does not do by itself, and why we add them:
- Base URL from config: ``API_BASE_URL`` is a class attribute and ``fetch_access_token`` uses a
  hard-coded api.weixin.qq.com URL, so both are overridden here from ``wechat.api_base_url``.
- One refresher at a time: fetching a token invalidates the previous one
  (https://developers.weixin.qq.com/doc/service/en/Basic_Information/Get_access_token.html), and
  wechatpy's RedisStorage shares the token but does not lock the refresh, so N processes refreshing
  together knock each other's tokens out (doraemonext/wechat-python-sdk#70). We take a Redis lock;
  the losers wait for the winner's token instead of fetching their own.
- A timeout on every call: wechatpy's default is none, and a hung call blocks a worker forever
  (wechatpy#291).
- The token from memory: wechatpy reads its session store before every call (a Redis round
  trip per warning). We keep the token in memory until a minute before its Redis TTL ends; if
  another process replaced it meanwhile, WeChat answers 40001 and the refresh path above adopts
  the new one, which costs one retried call per refresh.
- The environment once: requests re-reads proxies, CA bundle and netrc on every call; our
  session (bot.http_session) reads them once per host.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.http_session import EnvironmentOnceSession
from config import Config
from store import keys
from store.redis import RedisClient
from telemetry import metrics

TOKEN_LOCK_TTL_S = 30
TOKEN_WAIT_S = 10.0
# wechatpy refreshes a token with less than a minute left; so do we.
TOKEN_MARGIN_S = 60


class RedisTokenStorage:
    """wechatpy session storage keeping the access token in our key schema."""

    def __init__(self, redis: RedisClient) -> None:
        self.redis = redis

    def get(self, key: str, default: Any = None) -> Any:
        value = self.redis.get(key)
        return default if value is None else json.loads(value)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self.redis.set(key, json.dumps(value), ex=ttl or None)

    def delete(self, key: str) -> None:
        self.redis.delete(key)


class EndFraudWeChatClient(WeChatClient):  # type: ignore[misc]  # wechatpy ships no types
    def __init__(self, config: Config, redis: RedisClient) -> None:
        self.API_BASE_URL = config.wechat.api_base_url + "cgi-bin/"
        self._config = config
        self._redis = redis
        self._calls = threading.local()
        self._memory_token: tuple[str, float] = ("", 0.0)  # (token, valid until unix s)
        super().__init__(config.wechat.app_id, config.wechat.app_secret,
                         session=RedisTokenStorage(redis), timeout=config.wechat.timeout_s)
        self._http = EnvironmentOnceSession()

    @property
    def access_token(self) -> str:
        token, valid_until = self._memory_token
        now = time.time()
        if token and valid_until - now > TOKEN_MARGIN_S:
            return token
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self.access_token_key)
        pipe.pttl(self.access_token_key)
        raw, ttl_ms = pipe.execute()
        ttl_ms = int(ttl_ms)
        if raw and (ttl_ms < 0 or ttl_ms > TOKEN_MARGIN_S * 1000):
            token = str(json.loads(raw))
            # No TTL (a token set by hand): read it again from Redis in a minute or two.
            valid_s = ttl_ms / 1000 if ttl_ms > 0 else 2 * TOKEN_MARGIN_S
            self._memory_token = (token, now + valid_s)
            return token
        self.fetch_access_token()
        return str(self.session.get(self.access_token_key))

    @property
    def access_token_key(self) -> str:
        return keys.access_token(self.appid)

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        with _timed(api_endpoint(url_or_endpoint, self._config.wechat.api_base_url)):
            return super()._request(method, url_or_endpoint, **kwargs)

    def _fetch_access_token(self, url: str, params: dict[str, Any]) -> Any:
        with _timed("token"):
            result = super()._fetch_access_token(url, params)
        metrics.WECHAT_CALLS.labels(endpoint="token", errcode="0").inc()
        return result

    def _handle_result(self, res: Any, method: Any = None, url: Any = None,
                       result_processor: Any = None, **kwargs: Any) -> Any:
        # Counted per response, before wechatpy acts on it: a 40001 it answers with a token
        # refresh and a retry shows as the 40001 and the retry's own code.
        endpoint = api_endpoint(str(url), self._config.wechat.api_base_url)
        metrics.WECHAT_CALLS.labels(endpoint=endpoint, errcode=_errcode(res)).inc()
        # Remember which token this call used: if WeChat rejects it, only that token is stale,
        # and a newer one another thread or process fetched meanwhile must be adopted, not
        # replaced (a replacement would invalidate it under everyone else's feet).
        self._calls.token_used = (kwargs.get("params") or {}).get("access_token")
        return super()._handle_result(res, method, url, result_processor, **kwargs)

    def fetch_access_token(self) -> dict[str, Any]:
        """Refresh under a Redis lock; a process that loses the race adopts the winner's token."""
        self._memory_token = ("", 0.0)
        stale = getattr(self._calls, "token_used", None) or self.session.get(self.access_token_key)
        self._calls.token_used = None
        lock_key = keys.access_token_lock(self.appid)
        holder = uuid.uuid4().hex
        deadline = time.monotonic() + TOKEN_WAIT_S
        while True:
            if self._redis.set(lock_key, holder, nx=True, ex=TOKEN_LOCK_TTL_S):
                try:
                    current = self.session.get(self.access_token_key)
                    if current and current != stale:
                        # Another process refreshed while we queued for the lock.
                        self.expires_at = int(time.time()) + max(
                            int(self._redis.ttl(self.access_token_key)), 0)
                        return {"access_token": current}
                    token: dict[str, Any] = self._fetch_access_token(
                        url=self._config.wechat.api_base_url + "cgi-bin/token",
                        params={"grant_type": "client_credential", "appid": self.appid,
                                "secret": self.secret},
                    )
                    return token
                finally:
                    if self._redis.get(lock_key) == holder:
                        self._redis.delete(lock_key)
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                ttl_s = max(int(self._redis.ttl(self.access_token_key)), 0)
                self.expires_at = int(time.time()) + ttl_s
                return {"access_token": current}
            if time.monotonic() > deadline:
                raise WeChatClientException(-1, "timed out waiting for the token refresh lock")
            time.sleep(0.05)


@contextlib.contextmanager
def _timed(endpoint: str) -> Iterator[None]:
    """Time one API call; count the calls that got no WeChat answer to count (errcode "http" for
    an HTTP error status, "network" for no answer at all)."""
    started = time.perf_counter()
    try:
        yield
    except WeChatClientException as exc:
        if exc.errcode is None:
            metrics.WECHAT_CALLS.labels(endpoint=endpoint, errcode="http").inc()
        elif endpoint == "token":
            metrics.WECHAT_CALLS.labels(endpoint=endpoint, errcode=str(exc.errcode)).inc()
        raise
    except requests.RequestException:
        metrics.WECHAT_CALLS.labels(endpoint=endpoint, errcode="network").inc()
        raise
    finally:
        metrics.WECHAT_DURATION.labels(endpoint=endpoint).observe(time.perf_counter() - started)


def _errcode(res: Any) -> str:
    """The ``errcode`` of a WeChat JSON answer ("0" when absent: a successful call)."""
    try:
        body = res.json() if hasattr(res, "json") else res
    except ValueError:
        return "0"  # a media download: not JSON, not an error
    code = body.get("errcode", 0) if isinstance(body, dict) else 0
    try:
        return str(int(code))
    except (TypeError, ValueError):
        return "invalid"


def api_endpoint(url_or_endpoint: str, api_base_url: str) -> str:
    """``message/template/send`` from a full URL or a relative endpoint, without the query: a
    metrics label from a small fixed set."""
    path = url_or_endpoint.split("?", 1)[0]
    for prefix in (api_base_url + "cgi-bin/", api_base_url):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path.rsplit("/cgi-bin/", 1)[-1] if "://" in path else path


def make_client(config: Config, redis: RedisClient) -> EndFraudWeChatClient:
    return EndFraudWeChatClient(config, redis)
