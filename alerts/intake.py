"""The worker side of ingest: turn a queued alert into an alert record and its recipients.

Runs once per alert (job ``alert.received``) and is safe to run again after a crash: the alert
is created only if missing, the risk-list sighting and the unregistered count are guarded by
``HSETNX`` flags, and the per-recipient jobs have deterministic ids.
"""

from __future__ import annotations

from typing import Any

from alerts.model import HIGH_RISK, day_of
from alerts.store import AlertStore
from config import Config
from store import tallies
from store.followers import Follower, FollowerDirectory
from store.phones import PhoneVault
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics

ALERT_FIELDS = ("phone_key", "phone_enc", "fraud_type", "channel", "counterpart", "risk_level",
                "detected_ms", "received_ms", "source")


def record_alert(config: Config, redis: RedisClient, queue: DurableQueue, payload: dict[str, Any],
                 enqueued_ms: int, now: float) -> list[tuple[Follower, str]]:
    """Create the alert, feed the risk list, find who guards the number.

    Returns the recipients (their follower record, role); none means the number is not
    registered. The caller warns them (``alerts.delivery``) and queues ``enqueue_warning`` for
    anyone it could not. Three round trips, and one more (a single HMGET) when recipients
    have officers (this runs for every alert): independent reads and writes share a
    non-transactional pipeline, which Redis Cluster splits per node.
    """
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    directory = FollowerDirectory(redis, PhoneVault.from_config(config.privacy))
    alert_id = payload["alert_id"]
    received_ms = int(payload["received_ms"])
    lookup = payload["phone_key"]
    # 1: the alert (if missing), its risk-list flag, and who is indexed under the number.
    # The flag follows the create on the same hash and connection, so it never lands first.
    pipe = redis.pipeline(transaction=False)
    store.create_commands(alert_id, _alert_fields(payload), _first_entries(payload, enqueued_ms),
                          pipe)
    store.set_once_commands(alert_id, "risk_fed", "1", pipe)
    directory.phone_index_commands(lookup, pipe)
    _created, feed_risk, owner, guardians = pipe.execute()
    # 2: the risk-list sighting (first run only) and each candidate's own records.
    pipe = redis.pipeline(transaction=False)
    if feed_risk and payload.get("counterpart"):
        from intel.risklist import record_counterpart_commands

        record_counterpart_commands(pipe, payload["counterpart"], payload["fraud_type"],
                                    payload["source"], now)
    reads = directory.candidate_commands(lookup, owner, guardians, pipe)
    replies = pipe.execute()
    recipients = reads.recipients(replies[len(replies) - reads.size:])
    day = day_of(received_ms)
    if not recipients:
        _record_unregistered(store, redis, alert_id, payload, day, now)
        return []
    officers, stations = _officers_and_stations(redis, [f for f, _ in recipients])
    # 3: who was warned, and the day indexes the console lists.
    pipe = redis.pipeline(transaction=False)
    store.update(alert_id, {"recipients": ",".join(f"{f.openid}:{r}" for f, r in recipients),
                            "officers": ",".join(officers), "stations": ",".join(stations)},
                 client=pipe)
    store.index(alert_id, received_ms, day, stations, client=pipe)
    pipe.execute()
    return recipients


def _alert_fields(payload: dict[str, Any]) -> dict[str, str]:
    fields = {name: str(payload[name]) for name in ALERT_FIELDS}
    fields["status"] = "received"
    return fields


def _first_entries(payload: dict[str, Any], enqueued_ms: int) -> list[dict[str, Any]]:
    received_ms = int(payload["received_ms"])
    return [
        {"event": "received", "actor": f"source:{payload['source']}", "at_ms": received_ms,
         "risk_level": payload["risk_level"], "channel": payload["channel"]},
        {"event": "queued", "actor": "ingest", "at_ms": enqueued_ms or received_ms},
    ]


def enqueue_warning(queue: DurableQueue, alert_id: str, openid: str, role: str) -> bool:
    """The per-person retry unit (own retries, own dead letter); id fixed per alert and person."""
    return queue.enqueue("alert.warn", {"alert_id": alert_id, "openid": openid, "role": role},
                         job_id=f"warn:{alert_id}:{openid}")


def _record_unregistered(store: AlertStore, redis: RedisClient, alert_id: str,
                         payload: dict[str, Any], day: str, now: float) -> None:
    """Count the number once per alert (the flag guards a re-run) and list the alert."""
    first = store.set_once(alert_id, "unregistered", "1")
    pipe = redis.pipeline(transaction=False)
    if first:
        store.count_unregistered(day, payload["phone_key"], client=pipe)
        tallies.add(pipe, "alerts_unregistered_total")
        store.update(alert_id, {"status": "unregistered"}, event="unregistered", actor="worker",
                     client=pipe)
    store.index(alert_id, int(payload["received_ms"]), day, [], client=pipe)
    pipe.execute()
    if not first:
        return
    metrics.ALERTS_UNREGISTERED.inc()
    if payload["risk_level"] == HIGH_RISK:
        from alerts.answers import queue_callback

        queue_callback(store, alert_id, "unregistered_high_risk", store.get(alert_id),
                       int(now * 1000))


def _officers_and_stations(redis: RedisClient,
                           followers: list[Follower]) -> tuple[list[str], list[str]]:
    """The recipients' community officers and their stations, each once, in order."""
    from registration.directory import get_officers

    officers = list(dict.fromkeys(f.officer for f in followers if f.officer))
    stations: list[str] = []
    for officer in get_officers(redis, officers):
        if officer is not None and officer.station_id and officer.station_id not in stations:
            stations.append(officer.station_id)
    return officers, stations
