"""The custom menu, published through the WeChat API (the sandbox over HTTP), then clicked on a
simulated phone whose callback reaches the real app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.menu import create_menu, create_menu_when_up
from bot.wechat import make_client
from sandbox.client import SandboxClient
from store.streams import DurableQueue
from tests.bot.conftest import staff_client
from tests.conftest import make_config
from tests.servers import serve_wsgi as _serve
from worker.bot_jobs import send_text
from worker.jobs import WorkerContext
from worker.queues import BOT


@pytest.fixture
def live(redis, redis_url) -> Iterator[tuple]:
    """The app and the sandbox on real sockets, each pointed at the other."""
    from app import create_app
    from sandbox.server import create_app as create_sandbox

    placeholder = make_config(redis_url)
    web_app = create_app(placeholder, redis)
    web_server, web_url = _serve(web_app)
    sandbox_app = create_sandbox(placeholder, webhook_url=web_url + "wechat")
    sandbox_server, sandbox_url = _serve(sandbox_app)
    config = make_config(redis_url, wechat={"api_base_url": sandbox_url})
    web_app.config["ENDFRAUD"] = config
    yield config, web_app, SandboxClient(sandbox_url)
    sandbox_app.extensions["sandbox"].webhook.close()
    sandbox_server.shutdown()
    web_server.shutdown()


def test_published_menu_is_the_content_librarys_menu(live, redis, library):
    config, _, _ = live

    create_menu(config, redis)

    published = make_client(config, redis).menu.get()["menu"]["button"]
    assert [top["name"] for top in published] == [top["name"] for top in library.menu["button"]]
    keys = {b["key"] for top in published for b in top["sub_button"]}
    assert {"KNOW_police", "KNOW_ALL", "CHECK", "REPORT", "LOOKUP", "HELP_96110"} <= keys


def test_knowledge_details_arrive_later_as_a_customer_service_message(live, redis, library):
    config, _, sandbox = live
    citizen = sandbox.new_citizen()
    sandbox.follow(citizen)

    reply = sandbox.click_menu(citizen, "KNOW_romance")
    queue = DurableQueue(redis, BOT, config.queue)
    queue.ensure_group()
    [job] = queue.read("test", count=1, block_ms=None)
    send_text(job, WorkerContext(config=config, redis=redis))

    assert reply["content"].startswith("【网络婚恋交友】")
    sent = sandbox.wait_for_messages(citizen, 1, timeout_s=60, kind="custom")
    assert library.fraud_type("romance").warning_signs[0] in repr(sent)


def test_a_menu_click_on_the_simulated_phone_gets_the_bots_answer(live, library):
    _, _, sandbox = live
    citizen = sandbox.new_citizen()
    sandbox.follow(citizen)

    reply = sandbox.click_menu(citizen, "HELP_96110")

    assert reply["content"] == library.reply("help_96110")


def test_admin_api_publishes_the_menu(live):
    _, web_app, _ = live

    response = staff_client(web_app, "admin").post("/api/v1/menu")

    assert response.status_code == 200 and response.get_json()["ok"] is True


def test_menu_publishing_gives_up_quietly_when_the_api_is_down(redis, redis_url):
    config = make_config(redis_url, wechat={"api_base_url": "http://127.0.0.1:9/"})

    assert create_menu_when_up(config, redis, wait_s=0.2) is False
