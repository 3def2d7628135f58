"""Content tests use the shared real Redis fixture."""

from __future__ import annotations

import pytest


@pytest.fixture
def content_redis(redis):
    return redis
