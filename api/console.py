"""Console figures as JSON, for the console itself and other systems.

    GET /api/v1/dashboard    funnel, answer rate, median detection→warning, queues (duty/admin);
                             follower totals and 30-day history (duty/propaganda/admin);
                             per station / community / officer figures (an officer: own station)
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, g, jsonify

from console.auth import require_role
from console.dashboard import build

bp = Blueprint("console_api", __name__, url_prefix="/api/v1")


@bp.get("/dashboard")
@require_role("duty", "officer", "propaganda")
def dashboard() -> Any:
    return jsonify(build(current_app.config["REDIS"], current_app.config["ENDFRAUD"], g.user,
                         time.time()))
