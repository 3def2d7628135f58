"""The custom menu: published through the WeChat API from the content library's menu data.

POST cgi-bin/menu/create replaces the whole menu; followers see it within minutes
(https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html).
The demo publishes it at start; staff republish with ``POST /api/v1/menu`` after a change.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from wechatpy.exceptions import WeChatClientException

from bot.wechat import make_client
from config import Config
from content.store import effective_library
from store.redis import RedisClient

log = logging.getLogger(__name__)


def menu_data(redis: RedisClient) -> dict[str, Any]:
    return dict(effective_library(redis).menu)


def create_menu(config: Config, redis: RedisClient) -> dict[str, Any]:
    """Publish the menu; raises ``WeChatClientException`` with WeChat's errcode on refusal."""
    menu = menu_data(redis)
    make_client(config, redis).menu.create(menu)
    return menu


def create_menu_when_up(config: Config, redis: RedisClient, wait_s: float = 15.0) -> bool:
    """For start-up: retry while the API (the sandbox, in the demo) is still coming up."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            create_menu(config, redis)
            log.info("menu: published")
            return True
        except (requests.RequestException, WeChatClientException) as exc:
            if time.monotonic() >= deadline:
                log.warning("menu: not published: %s", exc)
                return False
            time.sleep(0.3)
