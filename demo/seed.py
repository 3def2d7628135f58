"""Demo seeding: a staff login with a fresh password printed at start-up."""

from __future__ import annotations

import secrets

from config import Config
from console.accounts import create_account
from store.redis import RedisClient


def seed_demo(config: Config, redis: RedisClient) -> str:
    """Create (or reset) the demo admin; returns its generated password."""
    password = secrets.token_urlsafe(12)
    create_account(redis, "admin", password, "admin", replace=True)
    return password
