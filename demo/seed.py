"""Demo seeding: a staff login with a fresh password printed at start-up."""

from __future__ import annotations

import secrets

from config import Config
from bot.menu import create_menu_when_up
from console.accounts import create_account
from store.redis import RedisClient


def seed_demo(config: Config, redis: RedisClient) -> str:
    """Create (or reset) the demo admin; returns its generated password."""
    password = secrets.token_urlsafe(12)
    create_account(redis, "admin", password, "admin", replace=True)
    # Only onto the demo's own sandbox (never a real account from a seed); the sandbox child
    # starts alongside us, so create_menu_when_up retries until it answers.
    if config.wechat.api_base_url == f"http://{config.sandbox.host}:{config.sandbox.port}/":
        create_menu_when_up(config, redis)
    return password
