"""Real-time warnings: signed alert ingest, durable delivery, answers, escalation, timeline.

See docs/alerts.md. Pure decisions live in ``model``, ``messages``, ``links`` and ``signing``;
Redis I/O in ``store``; the WeChat/SMS sending chain in ``delivery``.
"""
