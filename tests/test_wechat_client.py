"""bot.wechat: an unmodified wechatpy client on config's base URL, its token shared and
refreshed by one process at a time (tested against the simulator over real HTTP)."""

from __future__ import annotations

import threading

import pytest

from bot.wechat import make_client
from sandbox.client import SandboxClient
from sandbox.server import create_app as create_sandbox
from store import keys
from tests.conftest import make_config
from tests.servers import serve_wsgi


@pytest.fixture
def sandbox(redis_url):
    probe = make_config(redis_url)
    app = create_sandbox(probe, webhook_url="http://127.0.0.1:9/wechat")
    server, base = serve_wsgi(app)
    config = make_config(redis_url, wechat={"api_base_url": base})
    yield config, SandboxClient(base, strict=False)  # no webhook behind this simulator
    app.extensions["sandbox"].webhook.close()
    server.shutdown()


def tokens_issued(phone: SandboxClient) -> int:
    return int(phone.stats()["tokens_issued"])


def test_client_fetches_one_token_and_keeps_it_in_redis(sandbox, redis):
    config, phone = sandbox
    openid = phone.new_citizen()
    phone.follow(openid)
    client = make_client(config, redis)
    client.message.send_text(openid, "测试")
    client.message.send_text(openid, "测试二")
    assert tokens_issued(phone) == 1
    assert redis.get(keys.access_token(config.wechat.app_id))
    assert [m["kind"] for m in phone.messages(openid=openid)].count("custom") == 2


def test_a_second_process_reuses_the_shared_token(sandbox, redis):
    config, phone = sandbox
    make_client(config, redis).user.get_followers()
    make_client(config, redis).user.get_followers()
    assert tokens_issued(phone) == 1


@pytest.mark.parametrize("mode", ["expire", "invalidate"])
def test_expired_or_invalidated_token_is_refreshed_once_and_the_call_succeeds(sandbox, redis,
                                                                             mode):
    config, phone = sandbox
    openid = phone.new_citizen()
    phone.follow(openid)
    client = make_client(config, redis)
    client.message.send_text(openid, "一")
    phone.expire_token(mode)
    client.message.send_text(openid, "二")
    assert tokens_issued(phone) == 2
    assert [m["kind"] for m in phone.messages(openid=openid)].count("custom") == 2


def test_concurrent_refreshes_fetch_one_token(sandbox, redis):
    config, phone = sandbox
    make_client(config, redis).user.get_followers()
    phone.expire_token("invalidate")
    errors: list[Exception] = []

    def call() -> None:
        try:
            make_client(config, redis).user.get_followers()
        except Exception as exc:  # noqa: BLE001 - any failure in a thread is reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert tokens_issued(phone) == 2



def _calls(endpoint: str, errcode: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("endfraud_wechat_api_calls_total",
                                     {"endpoint": endpoint, "errcode": errcode}) or 0.0


def test_api_calls_are_counted_by_endpoint_and_errcode(sandbox, redis):
    from wechatpy.exceptions import WeChatClientException

    config, phone = sandbox
    openid = phone.new_citizen()
    phone.follow(openid)
    client = make_client(config, redis)
    client.message.send_text(openid, "一")
    before = {code: _calls("message/custom/send", code) for code in ("0", "45009", "http")}
    client.message.send_text(openid, "二")
    phone.set_fault(api="message/custom/send", fault="quota")
    with pytest.raises(WeChatClientException):
        client.message.send_text(openid, "三")
    phone.set_fault(api="message/custom/send", fault="http", http_status=502)
    with pytest.raises(WeChatClientException):
        client.message.send_text(openid, "四")
    assert _calls("message/custom/send", "0") == before["0"] + 1
    assert _calls("message/custom/send", "45009") == before["45009"] + 1
    assert _calls("message/custom/send", "http") == before["http"] + 1


def test_a_rejected_token_counts_the_rejection_and_the_retry(sandbox, redis):
    config, phone = sandbox
    openid = phone.new_citizen()
    phone.follow(openid)
    client = make_client(config, redis)
    client.message.send_text(openid, "一")
    phone.expire_token("invalidate")
    rejected = {code: _calls("message/custom/send", code) for code in ("0", "40001", "42001")}
    client.message.send_text(openid, "二")
    assert _calls("message/custom/send", "0") == rejected["0"] + 1
    assert (_calls("message/custom/send", "40001") + _calls("message/custom/send", "42001")
            == rejected["40001"] + rejected["42001"] + 1)


def test_a_client_holding_a_token_replaced_elsewhere_adopts_the_new_one(sandbox, redis):
    """The token lives in memory between calls; a refresh by another process costs one retried
    call, not a second refresh (which would knock the other process's token out)."""
    config, phone = sandbox
    openid = phone.new_citizen()
    phone.follow(openid)
    first, second = make_client(config, redis), make_client(config, redis)
    first.message.send_text(openid, "一")
    redis.delete(keys.access_token(config.wechat.app_id))
    second.message.send_text(openid, "二")  # fetches a new token: the first one is now void
    first.message.send_text(openid, "三")
    assert tokens_issued(phone) == 2
    assert [m["kind"] for m in phone.messages(openid=openid)].count("custom") == 3
