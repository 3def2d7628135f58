"""Content tests use the shared real Redis fixture."""

from __future__ import annotations

import pytest


@pytest.fixture
def content_redis(redis):  # type: ignore[no-untyped-def]
    return redis
