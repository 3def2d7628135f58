"""Periodic escalation scan: unanswered warnings past their deadline become escalation jobs.

The scheduler only enqueues (deterministic ids ``escalate:<alert_id>``); the worker escalates.
A 15 s scan on a 10 min answer timeout escalates within 2.5 % of the configured time.
"""

from __future__ import annotations

import logging
import time

from alerts.escalation import enqueue_due, prune_lists
from config import Config
from scheduler.process import periodic
from store.redis import RedisClient
from store.streams import DurableQueue
from worker.queues import WARNINGS

log = logging.getLogger(__name__)

SCAN_EVERY_S = 15
PRUNE_EVERY_MIN = 60


@periodic("alerts.escalation_scan", trigger="interval", seconds=SCAN_EVERY_S)
def scan_unanswered(config: Config, redis: RedisClient) -> None:
    queued = enqueue_due(config, redis, DurableQueue(redis, WARNINGS, config.queue), time.time())
    if queued:
        log.info("escalation: %d unanswered warning(s) queued for escalation", queued)


@periodic("alerts.retention_prune", trigger="interval", minutes=PRUNE_EVERY_MIN)
def prune_old_lists(config: Config, redis: RedisClient) -> None:
    removed = prune_lists(config, redis, time.time())
    if removed:
        log.info("retention: %d call-back entries past retention removed", removed)
