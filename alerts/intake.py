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
from store.followers import FollowerDirectory
from store.phones import PhoneVault
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics

ALERT_FIELDS = ("phone_key", "phone_enc", "fraud_type", "channel", "counterpart", "risk_level",
                "detected_ms", "received_ms", "source")


def record_alert(config: Config, redis: RedisClient, queue: DurableQueue, payload: dict[str, Any],
                 enqueued_ms: int, now: float) -> list[tuple[str, str]]:
    """Create the alert, feed the risk list, find who guards the number.

    Returns the recipients (openid, role); none means the number is not registered. The caller
    warns them (``alerts.delivery``) and queues ``enqueue_warning`` for anyone it could not.
    """
    store = AlertStore(redis, config.alerts.retention_days * 86400)
    alert_id = payload["alert_id"]
    received_ms = int(payload["received_ms"])
    fields = {name: str(payload[name]) for name in ALERT_FIELDS}
    fields["status"] = "received"
    store.create(alert_id, fields, [
        {"event": "received", "actor": f"source:{payload['source']}", "at_ms": received_ms,
         "risk_level": payload["risk_level"], "channel": payload["channel"]},
        {"event": "queued", "actor": "ingest", "at_ms": enqueued_ms or received_ms},
    ])
    if store.set_once(alert_id, "risk_fed", "1") and payload.get("counterpart"):
        from intel.risklist import record_counterpart

        record_counterpart(redis, payload["counterpart"], payload["fraud_type"],
                           payload["source"], now)
    directory = FollowerDirectory(redis, PhoneVault.from_config(config.privacy))
    recipients = directory.recipients_for_phone(payload["phone_key"])
    day = day_of(received_ms)
    if not recipients:
        _record_unregistered(store, redis, alert_id, payload, day, now)
        store.index(alert_id, received_ms, day, [])
        return []
    officers, stations = _officers_and_stations(redis, directory, recipients)
    store.update(alert_id, {"recipients": ",".join(f"{o}:{r}" for o, r in recipients),
                            "officers": ",".join(officers), "stations": ",".join(stations)})
    store.index(alert_id, received_ms, day, stations)
    return recipients


def enqueue_warning(queue: DurableQueue, alert_id: str, openid: str, role: str) -> bool:
    """The per-person retry unit (own retries, own dead letter); id fixed per alert and person."""
    return queue.enqueue("alert.warn", {"alert_id": alert_id, "openid": openid, "role": role},
                         job_id=f"warn:{alert_id}:{openid}")


def _record_unregistered(store: AlertStore, redis: RedisClient, alert_id: str,
                         payload: dict[str, Any], day: str, now: float) -> None:
    if not store.set_once(alert_id, "unregistered", "1"):
        return
    store.count_unregistered(day, payload["phone_key"])
    tallies.add(redis, "alerts_unregistered_total")
    metrics.ALERTS_UNREGISTERED.inc()
    store.update(alert_id, {"status": "unregistered"}, event="unregistered", actor="worker")
    if payload["risk_level"] == HIGH_RISK:
        from alerts.answers import queue_callback

        queue_callback(store, alert_id, "unregistered_high_risk", store.get(alert_id),
                       int(now * 1000))


def _officers_and_stations(redis: RedisClient, directory: FollowerDirectory,
                           recipients: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    from registration.directory import get_officer

    officers: list[str] = []
    stations: list[str] = []
    for openid, _role in recipients:
        follower = directory.get(openid)
        if follower is None or not follower.officer or follower.officer in officers:
            continue
        officers.append(follower.officer)
        officer = get_officer(redis, follower.officer)
        if officer is not None and officer.station_id and officer.station_id not in stations:
            stations.append(officer.station_id)
    return officers, stations
