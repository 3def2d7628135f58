"""The durable queues and which worker handles which job type."""

from __future__ import annotations

# Warnings must not wait behind a million-follower broadcast, so each has its own stream
# (and its own consumer thread in every worker process).
WARNINGS = "warnings"
BROADCASTS = "broadcasts"
BOT = "bot"
# Screenshot OCR takes a second or two of CPU and ~300 MB while it runs: its own stream keeps
# it from delaying the bot's quick jobs, and one consumer thread per process bounds the memory.
SCREENSHOTS = "screenshots"

ALL_QUEUES = (WARNINGS, BROADCASTS, BOT, SCREENSHOTS)
