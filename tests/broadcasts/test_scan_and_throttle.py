"""Streaming the follower directory by bucket, and API pacing across processes."""

from __future__ import annotations

import zlib
from typing import Any

from broadcasts.throttle import wait_for_slot
from store import keys
from store.followers import Follower, FollowerDirectory


def test_bucket_scan_starts_at_the_given_bucket_and_keeps_bucket_order(redis: Any) -> None:
    directory = FollowerDirectory(redis, None)  # type: ignore[arg-type]
    openids = [f"oSCAN{i:08d}" for i in range(200)]
    for openid in openids:
        directory.save(Follower(openid, True, 0, "", "", ""))
    seen = [(b, f.openid) for b, followers in directory.iter_buckets(start=4000, group=16)
            for f in followers]
    buckets = [b for b, _ in seen]
    assert buckets == sorted(buckets) and min(buckets) >= 4000
    assert {o for _, o in seen} == {o for o in openids
                                    if zlib.crc32(o.encode()) % keys.FOLLOWER_BUCKETS >= 4000}


def test_unsubscribed_followers_are_left_out_of_the_scan(redis: Any) -> None:
    directory = FollowerDirectory(redis, None)  # type: ignore[arg-type]
    directory.save(Follower("oSCANgone00001", False, 0, "", "", ""))
    directory.save(Follower("oSCANhere00001", True, 0, "", "", ""))
    assert [f.openid for f in directory.iter_followers()] == ["oSCANhere00001"]


def test_a_call_over_the_rate_waits_for_the_next_second(redis: Any) -> None:
    now = [100.25]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    for _ in range(3):
        wait_for_slot(redis, "mass", 2, clock=lambda: now[0], sleep=sleep)
    assert slept == [0.75]
