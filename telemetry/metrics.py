"""The Prometheus metrics every process exports, defined once.

Each process counts its own events in memory (prometheus_client) and serves them itself: the web
server's gunicorn workers through prometheus_client's multiprocess mode (``/metrics``), the
worker and the scheduler on their ``--metrics-port``. Prometheus adds them up across processes
and machines, as it does for any service; nothing here touches Redis, so no key turns hot on a
cluster. The console's business figures (the alert funnel) are kept apart, in ``store.tallies``.

Names follow Prometheus conventions: ``endfraud_`` prefix, ``_total`` on counters, base units
(``_seconds``). Label values come from small fixed sets (routes, queue names, WeChat endpoints
and errcodes), never from user input.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Webhook and API answers are budgeted in milliseconds (WeChat gives up after 5 s).
REQUEST_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A warning or an answer takes seconds to minutes.
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# -- web ------------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "endfraud_http_requests", "HTTP requests answered, by route template and status code.",
    ["route", "method", "status"])
HTTP_DURATION = Histogram(
    "endfraud_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (the webhook is route=\"/wechat\").",
    ["route"], buckets=REQUEST_BUCKETS_S)
LOGIN_FAILURES = Counter(
    "endfraud_console_login_failures", "Console sign-ins refused: wrong password or locked out.",
    ["reason"])

# -- WeChat API -----------------------------------------------------------------------------------
WECHAT_CALLS = Counter(
    "endfraud_wechat_api_calls",
    "WeChat API calls by endpoint and errcode (\"0\" success, \"http\" HTTP error, "
    "\"network\" no answer).", ["endpoint", "errcode"])
WECHAT_DURATION = Histogram(
    "endfraud_wechat_api_duration_seconds", "Time a WeChat API call took, by endpoint.",
    ["endpoint"], buckets=REQUEST_BUCKETS_S)

# -- registration ---------------------------------------------------------------------------------
OTP_SENT = Counter("endfraud_otp_sent", "Verification codes queued for SMS.", ["purpose"])
OTP_FAILURES = Counter(
    "endfraud_otp_failures",
    "Verification codes refused: wrong, expired, or the follower locked out after too many tries.",
    ["reason"])

# -- warnings -------------------------------------------------------------------------------------
ALERTS_RECEIVED = Counter("endfraud_alerts_received", "Alerts accepted from warning platforms.")
ALERTS_UNREGISTERED = Counter(
    "endfraud_alerts_unregistered", "Alerts about a number nobody has registered.")
WARNINGS_SENT = Counter(
    "endfraud_alerts_warnings_sent", "Warnings WeChat (or the SMS gateway) accepted.",
    ["channel", "role"])
WARNINGS_DELIVERED = Counter(
    "endfraud_alerts_warnings_delivered", "Warnings confirmed in the recipient's chat.",
    ["channel"])
WARNINGS_UNDELIVERED = Counter(
    "endfraud_alerts_warnings_undelivered", "Template warnings WeChat reported as not delivered.",
    ["channel"])
SEND_FAILURES = Counter(
    "endfraud_alerts_send_failures", "Warnings no channel could send (transient ones are retried).",
    ["transient"])
WARNING_LATENCY = Histogram(
    "endfraud_alerts_warning_latency_seconds",
    "From the platform's detection to the first warning WeChat accepted for the alert.",
    buckets=LATENCY_BUCKETS_S)
ANSWERS = Counter("endfraud_alerts_answered", "Answers to warnings, by answer.", ["answer"])
ANSWER_LATENCY = Histogram(
    "endfraud_alerts_answer_latency_seconds", "From the first warning sent to the first answer.",
    buckets=LATENCY_BUCKETS_S)
URGENT_CASES = Counter("endfraud_alerts_urgent_cases", "\"Already paid\" cases opened.")
ESCALATIONS = Counter("endfraud_alerts_escalated", "Alerts escalated to officers unanswered.")
RECEIPTS_PARKED = Counter(
    "endfraud_alerts_receipts_parked",
    "Template job-finish events that arrived before the send was recorded.")

# -- broadcasts -----------------------------------------------------------------------------------
BROADCAST_FIRES = Counter("endfraud_broadcast_fires", "Scheduled broadcast runs fired.")
BROADCAST_RUNS_STARTED = Counter(
    "endfraud_broadcast_runs_started", "Broadcast runs created.", ["trigger"])
BROADCAST_RUNS = Counter("endfraud_broadcast_runs", "Broadcast runs finished, by status.",
                         ["status"])
BROADCAST_BATCHES = Counter(
    "endfraud_broadcast_batches", "Mass-send batches; repeated=\"true\" when WeChat returned an "
    "earlier msg_id for the same clientmsgid.", ["repeated"])

# -- queues and jobs (worker) ---------------------------------------------------------------------
JOBS = Counter("endfraud_jobs", "Jobs the worker finished, by queue and outcome "
               "(done, retry, dead).", ["queue", "outcome"])
JOB_DURATION = Histogram("endfraud_job_duration_seconds", "Time a job's handler ran, by queue.",
                         ["queue"], buckets=REQUEST_BUCKETS_S)
DEAD_LETTERED = Counter("endfraud_queue_dead_lettered", "Jobs moved to a dead-letter stream.",
                        ["queue"])

# -- scheduler ------------------------------------------------------------------------------------
SCHEDULER_LEADER = Gauge(
    "endfraud_scheduler_leader", "1 while this scheduler process holds the lease and runs jobs.",
    multiprocess_mode="liveall")
