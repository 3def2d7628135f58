"""Demo seeding: a staff login with a fresh password printed at start-up, and a small police
station with two communities and their officers, so QR posters and attribution work at once."""

from __future__ import annotations

import secrets

from bot.menu import create_menu_when_up
from config import Config
from console.accounts import create_account
from registration.directory import (
    Community,
    Officer,
    Station,
    get_station,
    save_community,
    save_officer,
    save_station,
)
from store.redis import RedisClient


def seed_demo(config: Config, redis: RedisClient) -> str:
    """Create (or reset) the demo admin; returns its generated password."""
    password = secrets.token_urlsafe(12)
    create_account(redis, "admin", password, "admin", replace=True)
    seed_directory(redis)
    # Only onto the demo's own sandbox (never a real account from a seed); the sandbox child
    # starts alongside us, so create_menu_when_up retries until it answers.
    if config.wechat.api_base_url == f"http://{config.sandbox.host}:{config.sandbox.port}/":
        create_menu_when_up(config, redis)
    return password


DEMO_STATION = Station("demo-station", "示例派出所")
DEMO_COMMUNITIES = (Community("demo-c1", "幸福里社区", "demo-station"),
                    Community("demo-c2", "光明村", "demo-station"))
DEMO_OFFICERS = (Officer("demo-o1", "张警官", "010001", "demo-station", "demo-c1"),
                 Officer("demo-o2", "李警官", "010002", "demo-station", "demo-c2"))


def seed_directory(redis: RedisClient) -> None:
    """Create the demo station once; a restarted demo keeps whatever staff changed since."""
    if get_station(redis, DEMO_STATION.id) is not None:
        return
    save_station(redis, DEMO_STATION)
    for community in DEMO_COMMUNITIES:
        save_community(redis, community)
    for officer in DEMO_OFFICERS:
        save_officer(redis, officer)
