"""The hourly snapshot of daily figures, run by the scheduler (see console.stats)."""

from __future__ import annotations

import time

from config import Config
from console import stats
from scheduler.process import periodic
from store.redis import RedisClient


@periodic("console-daily-snapshot", trigger="interval", minutes=60)
def snapshot_daily_figures(config: Config, redis: RedisClient) -> None:
    stats.record_daily_snapshot(redis, time.time())
