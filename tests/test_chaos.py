"""Chaos, shortened: warnings and a broadcast through a Redis master failover, a worker's
SIGKILL and the leading scheduler's SIGKILL, on a 3+3-node cluster (benchmarks/chaos.py runs
the long version and reports timings; this asserts only outcomes, never wall-clock figures).

Marked ``chaos``: about a minute on a quiet 2-core box; ``-m "not chaos"`` skips it.
"""

from __future__ import annotations

import pytest

from benchmarks import chaos


@pytest.mark.chaos
@pytest.mark.timeout(600)
def test_a_master_failover_and_two_crashes_lose_no_warning_and_send_nothing_twice():
    result = chaos.run(seconds=8, rate=50, audience=10_000, recipients=40, verbose=False)
    assert result["accepted"] == result["alerts"]
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["broadcast_status"] == "dispatched"
    assert result["broadcast_followers_reached"] == 10_000
    assert result["duplicate_batches"] == 0
    assert result["failover_s"] is not None, "the replica never took over"
    assert result["scheduler_took_over"]
