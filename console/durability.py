"""Staff edits are acknowledged once a replica has them, like alerts (store.replication).

A staff edit (account, broadcast, content, directory, alert desk action) is made of several calls
on several keys, possibly on several cluster masters, so instead of a WAIT per call the answer
waits on a fence on every master: replication is ordered, so a replica that has the fence has
the edit. No replica in time: 503 "saved, not yet replicated". The edit stands on the master and
the console reloads what it shows from the store, so staff see whether it stuck before repeating
it (a repeated call-back outcome would add a second attempt). Only signed-in staff's changes wait:
citizens' answers and the webhook keep their own paths, alert ingest waits in ``alerts.ingest``.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, Response, current_app, g, jsonify, request

from console import csrf
from store.replication import Replication

log = logging.getLogger(__name__)

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    app.after_request(_wait_for_replica)


def _wait_for_replica(response: Response) -> Response:
    if (request.method not in CHANGES or request.endpoint in csrf.SIGNED_ENDPOINTS
            or g.get("user") is None or response.status_code >= 400):
        return response
    config = current_app.config["ENDFRAUD"]
    try:
        Replication(current_app.config["REDIS"], config.redis.replica_wait_ms).fence_all()
    except redis.RedisError as exc:
        log.warning("staff edit %s %s not confirmed by a replica: %s", request.method,
                    request.path, type(exc).__name__)
        failed = jsonify({"error": "saved, but not yet replicated; reload to check before "
                                   "repeating it"})
        failed.status_code = 503
        return failed
    return response
