"""Scheduled publicity broadcasts: definitions, schedules, audiences, mass-send dispatch, results.

- ``model``: pure domain logic (validation, triggers, run slots, batch planning, month keys).
- ``store``: definitions and runs in Redis.
- ``audience``: which followers a broadcast reaches, streamed bucket by bucket.
- ``quota``: per-follower monthly mass-send counters.
- ``dispatch``: one run, from the allowance check to the last batch; resumable after a crash.

The scheduler side lives in ``scheduler/broadcasts.py``, the staff API in ``api/broadcasts.py``,
the worker job in ``worker/broadcast_jobs.py``. See docs/broadcasts.md.
"""
