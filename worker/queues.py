"""The durable queues and which worker handles which job type."""

from __future__ import annotations

# Warnings must not wait behind a million-follower broadcast, so each has its own stream
# (and its own consumer thread in every worker process).
WARNINGS = "warnings"
BROADCASTS = "broadcasts"
BOT = "bot"

ALL_QUEUES = (WARNINGS, BROADCASTS, BOT)
