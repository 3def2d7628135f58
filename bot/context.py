"""What every handler gets: config, the store, the content library, queues and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from config import Config
from store.redis import RedisClient
from store.streams import DurableQueue

_NOT_READ = object()


@dataclass
class HandlerContext:
    config: Config
    redis: RedisClient
    clock: Callable[[], float] = field(default=time.time)
    # The content revision, when the webhook already read it in its first pipeline.
    content_revision: Any = field(default=_NOT_READ)
    # Key -> value of what the handler asked the webhook to read for it (``Registry.on_event``).
    prefetched: dict[str, Any] = field(default_factory=dict)

    def now(self) -> float:
        return self.clock()

    @cached_property
    def library(self) -> Any:
        from content.store import effective_library

        if self.content_revision is _NOT_READ:
            return effective_library(self.redis)
        return effective_library(self.redis, revision=self.content_revision)

    def queue(self, name: str) -> DurableQueue:
        return DurableQueue(self.redis, name, self.config.queue)

    def reply(self, name: str, /, **fields: Any) -> str:
        """A citizen-facing text from the content library (wording lives in content/)."""
        return str(self.library.reply(name, **fields))
