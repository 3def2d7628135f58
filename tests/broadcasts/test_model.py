"""Pure broadcast logic: batch plans, schedules, run slots, validation."""

from __future__ import annotations

from datetime import datetime

import pytest

from broadcasts.model import (
    TZ,
    BroadcastError,
    next_run_times,
    plan_batches,
    run_slot,
    slice_range,
    validate_audience,
    validate_schedule,
)


def _buckets(sizes: list[int]) -> list[tuple[int, list[str]]]:
    return [(b, [f"o{b:03d}-{i:03d}" for i in range(n)]) for b, n in enumerate(sizes)]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def test_batches_cover_every_openid_once_and_respect_the_size() -> None:
    buckets = _buckets([3, 0, 4, 2, 5, 1, 3])
    batches = list(plan_batches(buckets, (0, 0), 6))
    flat = [o for b in batches for o in b.openids]
    assert flat == [o for _, members in buckets for o in members]
    assert all(2 <= len(b.openids) <= 6 for b in batches)


def test_batches_end_on_bucket_boundaries_when_buckets_fit() -> None:
    batches = list(plan_batches(_buckets([3, 3, 3, 3]), (0, 0), 7))
    assert [b.end for b in batches] == [(1, 3), (3, 3)]


def test_a_bucket_bigger_than_a_batch_is_split() -> None:
    batches = list(plan_batches(_buckets([25]), (0, 0), 10))
    assert [len(b.openids) for b in batches] == [10, 10, 5]


def test_a_single_trailing_openid_takes_one_from_the_batch_before() -> None:
    batches = list(plan_batches(_buckets([5, 1]), (0, 0), 5))
    assert [len(b.openids) for b in batches] == [4, 2]


def test_a_recorded_batch_reads_back_the_same_openids() -> None:
    buckets = _buckets([5, 1, 7, 2])
    for batch in plan_batches(buckets, (0, 0), 4):
        assert slice_range(buckets, batch.start, batch.end) == batch.openids


def test_planning_from_a_cursor_continues_the_original_plan() -> None:
    buckets = _buckets([3, 4, 2, 6, 3])
    full = list(plan_batches(buckets, (0, 0), 5))
    resumed = list(plan_batches([b for b in buckets if b[0] >= full[1].end[0]], full[1].end, 5))
    assert [b.openids for b in resumed] == [b.openids for b in full[2:]]


def test_crontab_weekday_numbers_count_from_sunday() -> None:
    schedule = validate_schedule({"kind": "cron", "cron": "0 9 * * 1"})
    [first] = next_run_times(schedule, _ts("2025-06-04T12:00:00"), 1)  # a Wednesday
    assert datetime.fromtimestamp(first, TZ).isoformat() == "2025-06-09T09:00:00+08:00"


def test_recurring_schedule_stops_at_its_end_date() -> None:
    schedule = validate_schedule({"kind": "cron", "cron": "0 9 * * *",
                                  "start": "2025-06-01T00:00", "end": "2025-06-03T23:00"})
    runs = next_run_times(schedule, _ts("2025-05-01T00:00:00"), 10)
    assert len(runs) == 3


def test_a_fire_inside_the_grace_time_maps_to_its_scheduled_slot() -> None:
    schedule = validate_schedule({"kind": "cron", "cron": "0 9 * * *"})
    assert run_slot(schedule, _ts("2025-06-02T09:03:10"), 300) == _ts("2025-06-02T09:00:00")
    assert run_slot(schedule, _ts("2025-06-02T09:10:00"), 300) is None


def test_one_off_slot_is_its_time() -> None:
    schedule = validate_schedule({"kind": "once", "at": "2025-06-02T09:00"})
    assert run_slot(schedule, _ts("2025-06-02T09:00:02"), 300) == _ts("2025-06-02T09:00:00")


@pytest.mark.parametrize("schedule", [
    {"kind": "cron", "cron": "0 9 * *"}, {"kind": "weekly"}, {"kind": "once", "at": "tomorrow"},
    {"kind": "cron", "cron": "0 9 * * *", "start": "2025-06-03", "end": "2025-06-01"},
])
def test_bad_schedules_are_refused(schedule: dict) -> None:
    with pytest.raises(BroadcastError):
        validate_schedule(schedule)


def test_area_audience_needs_ids() -> None:
    with pytest.raises(BroadcastError):
        validate_audience({"kind": "communities", "ids": []})
