"""TEMPLATESENDJOBFINISH: WeChat's receipt for a template message, confirming a warning arrived.

https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
("事件推送"): ``MsgID`` is the msgid the send returned, ``Status`` is ``success``,
``failed:user block`` or ``failed: system failed``. The event can beat the worker's own record of
that msgid, and after a crash it is the only proof the warning went out, so an event we cannot
match yet is parked for the sender (alerts.delivery) to claim.
"""

from __future__ import annotations

import weakref
from typing import Any

from alerts.delivery import confirm_delivery
from alerts.store import AlertStore
from bot.registry import registry
from store.redis import ride_out_failover
from store.replication import Replication
from telemetry import metrics

# Redis client -> retention -> store: building an AlertStore registers its scripts (a SHA1 of
# each), so each web worker keeps one rather than building one per receipt.
_STORES: weakref.WeakKeyDictionary[Any, dict[int, AlertStore]] = weakref.WeakKeyDictionary()


def _store(ctx: Any) -> AlertStore:
    retention_s = ctx.config.alerts.retention_days * 86400
    by_retention = _STORES.setdefault(ctx.redis, {})
    store = by_retention.get(retention_s)
    if store is None:
        store = by_retention[retention_s] = AlertStore(ctx.redis, retention_s)
    return store


def _msgid_key(msg: Any) -> list[str]:
    """Which warning the receipt is for: read in the webhook's first round trip."""
    return [AlertStore.msgid_key(str(msg.id))]


@registry.on_event("templatesendjobfinish", reads=_msgid_key)
def template_send_finished(msg: Any, ctx: Any) -> None:
    msgid = str(msg.id)
    status = str(getattr(msg, "status", "") or "")
    store = _store(ctx)
    at_ms = int(ctx.now() * 1000)
    key = AlertStore.msgid_key(msgid)
    target = (AlertStore.parse_msgid_target(ctx.prefetched[key]) if key in ctx.prefetched
              else store.msgid_target(msgid))
    if target and confirm_delivery(store, ctx.redis, target[0], target[1], msgid, status, at_ms):
        return None
    marker = store.marker(*target) if target else None
    if marker is not None and marker.state in ("delivered", "undelivered"):
        return None  # already applied (the sender claimed it)
    # Replicated before we answer WeChat: it may be the only proof the warning arrived. Not
    # replicated in time → an error → 500 → WeChat pushes the event again.
    replication = Replication(ctx.redis, ctx.config.redis.replica_wait_ms)
    ride_out_failover(lambda: store.park_finish(msg.source, msgid, status, at_ms, replication))
    metrics.RECEIPTS_PARKED.inc()
    # The sender may have recorded "sent" and looked for parked receipts between our two steps.
    target = target or store.msgid_target(msgid)
    marker = store.marker(*target) if target else None
    if (target and marker is not None and marker.state == "sent"
            and store.claim_finish(msg.source, msgid) is not None):
        confirm_delivery(store, ctx.redis, target[0], target[1], msgid, status, at_ms)
    return None
