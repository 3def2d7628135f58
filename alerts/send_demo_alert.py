"""Post one signed alert to a running instance, as the warning platform would.

    .venv/bin/python -m alerts.send_demo_alert 13800138000
    .venv/bin/python -m alerts.send_demo_alert 13800138000 --fraud-type investment \\
        --channel sms --counterpart 10691234567 --risk high --url http://127.0.0.1:8000

The source and key default to the first ``alerts.source_keys`` entry of the loaded config (in
demo mode the published ``demo-platform`` key from config.example.toml).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import uuid

import requests

from alerts.model import CHANNELS, RISK_LEVELS
from alerts.signing import signed_headers
from config import load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phone", help="the targeted mobile number (bind it on the phone first)")
    parser.add_argument("--fraud-type", default="police")
    parser.add_argument("--channel", default="call", choices=CHANNELS)
    parser.add_argument("--counterpart", default="+85261234567")
    parser.add_argument("--risk", default="high", choices=RISK_LEVELS)
    parser.add_argument("--alert-id", default="")
    parser.add_argument("--url", default="", help="service base URL (default service.public_url)")
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    config = load_config(args.config, demo=True)
    source, _, key = config.alerts.source_keys[0].partition(":")
    alert = {"alert_id": args.alert_id or f"demo-{uuid.uuid4().hex[:12]}", "phone": args.phone,
             "fraud_type": args.fraud_type, "channel": args.channel,
             "counterpart": args.counterpart, "risk_level": args.risk,
             "detected_at": time.time(), "source": source}
    body = json.dumps(alert).encode("utf-8")
    base = (args.url or config.service.public_url).rstrip("/")
    response = requests.post(base + "/api/v1/alerts", data=body, timeout=10,
                             headers=signed_headers(source, key, body, time.time(),
                                                    secrets.token_hex(8)))
    print(response.status_code, response.text.strip())
    return 0 if response.status_code < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
