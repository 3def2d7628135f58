"""Sending one warning to one person: template message, then customer-service message, then SMS.

Exactly-once, as far as it can be had (docs/alerts.md, "No double warning"):

1. Before any send, the worker claims the person's marker on the alert (``alerts.store``:
   Lua, one key): only one worker ever holds ``sending``. Where the master has a replica, the
   claim is on the replica before the send (``store.replication``), so a failover cannot
   forget it and let a second worker send again.
2. After the send it records ``sent`` (and the template msgid → alert mapping).
3. If the worker dies (or the call times out) between 1 and 2, the outcome is unknown. The next
   attempt finds a stale ``sending`` marker and, for a template, looks for WeChat's
   TEMPLATESENDJOBFINISH for that openid that nobody claimed since the claim
   (``handlers.template_events`` parks such events). Found: the warning did arrive, record it,
   send nothing. Not found after ``alerts.unconfirmed_resend_s``: it did not arrive, send again.
   A customer-service or SMS send has no such receipt, so an unknown outcome there is not
   retried automatically: the job goes to the dead-letter list for staff to decide.

Error handling follows WeChat's global return codes
(https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html):
-1 (busy), HTTP 5xx and refused connections are retried with backoff (nothing was sent);
40001/42001 are refreshed and retried inside wechatpy (our ``bot.wechat`` client locks the
refresh); 43004 means the person unfollowed; 45015/45047 close the customer-service window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis as redis_lib
import requests
from wechatpy.exceptions import WeChatClientException

from alerts import messages
from alerts.links import answer_url
from alerts.model import deadline_ms
from alerts.store import AlertStore, Marker, officer_field, recipient_field
from bot.webhook import short_id
from config import Config
from store import keys, tallies
from store.followers import OWNER, Follower, FollowerDirectory
from store.phones import PhoneVault, mask
from store.redis import RedisClient, ride_out_failover
from store.replication import NotReplicated, Replication
from store.streams import PermanentJobError
from telemetry import metrics

log = logging.getLogger(__name__)

OK, TRANSIENT, AMBIGUOUS = "ok", "transient", "ambiguous"
UNFOLLOWED, REFUSED = "unfollowed", "refused"
TRANSIENT_ERRCODES = frozenset({-1, 45011, 40001, 40014, 42001})
UNFOLLOWED_ERRCODES = frozenset({43004})
# A parked job-finish event younger than this may belong to a live sender that is about to
# record its msgid; leave it to that sender.
FINISH_SETTLE_MS = 1000
# How long a worker keeps trying to record a send it made (a failover takes seconds).
RECORD_RETRY_S = 60.0
RECORD_RETRY_PAUSE_S = 0.5
OFFICER = "officer"
WARNING_LATENCY = "alerts_warning_latency_seconds"


class RetryLater(Exception):
    """Nothing certain happened yet (busy marker, transient failure, unknown outcome): the job
    stays pending and is reclaimed after ``queue.reclaim_idle_s``."""


def classify_failure(exc: BaseException) -> str:
    """What a failed send means for retrying (pure)."""
    if isinstance(exc, (requests.ConnectTimeout,)):
        return TRANSIENT
    if isinstance(exc, requests.ConnectionError) and "Failed to establish" in str(exc):
        return TRANSIENT
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return AMBIGUOUS  # the request may have been processed; only a receipt can tell
    if isinstance(exc, WeChatClientException):
        if exc.errcode is None:
            status = getattr(getattr(exc, "response", None), "status_code", 0) or 0
            return TRANSIENT if status >= 500 or status == 0 else REFUSED
        if exc.errcode in TRANSIENT_ERRCODES:
            return TRANSIENT
        if exc.errcode in UNFOLLOWED_ERRCODES:
            return UNFOLLOWED
        return REFUSED
    return AMBIGUOUS


@dataclass(frozen=True)
class Recipient:
    openid: str
    role: str       # owner | guardian | officer
    field: str      # the marker field on the alert
    reason: str = ""  # officers: paid | unanswered


@dataclass
class Outcome:
    kind: str
    msgid: str = ""
    detail: str = ""


@dataclass
class Deliverer:
    config: Config
    redis: RedisClient
    wechat: Any
    library: Any
    sms: Any = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    store: AlertStore = field(init=False)
    vault: PhoneVault = field(init=False)

    def __post_init__(self) -> None:
        self.store = AlertStore(self.redis, self.config.alerts.retention_days * 86400)
        self.vault = PhoneVault.from_config(self.config.privacy)
        self.directory = FollowerDirectory(self.redis, self.vault)
        self.replication = Replication(self.redis, self.config.redis.replica_wait_ms)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- entry points (one per job type) -------------------------------------------------------

    def warn_follower(self, alert_id: str, openid: str, role: str,
                      staff_retry: bool = False, follower: Follower | None = None) -> str:
        """``follower``: the person's record if the caller has just read it (intake has),
        saving a round trip; read here otherwise."""
        return self._deliver(alert_id, Recipient(openid, role, recipient_field(openid)),
                             staff_retry, follower)

    def notify_officer(self, alert_id: str, officer_id: str, reason: str) -> str:
        from registration.directory import get_officer

        officer = get_officer(self.redis, officer_id)
        if officer is None or not officer.openid:
            # The call-back queue entry still reaches the duty desk.
            self.store.update(alert_id, event="officer_unreachable", actor="worker",
                              at_ms=self.now_ms(), officer=officer_id, reason=reason)
            return "unreachable"
        return self._deliver(alert_id, Recipient(officer.openid, OFFICER,
                                                 officer_field(reason, officer.openid), reason))

    # -- the claim and the reconciliation of unknown outcomes ----------------------------------

    def _deliver(self, alert_id: str, who: Recipient, staff_retry: bool = False,
                 follower: Follower | None = None) -> str:
        now = self.now_ms()
        grace_ms = self.config.alerts.unconfirmed_resend_s * 1000
        try:
            claim, state = ride_out_failover(lambda: self.store.claim_with_state(
                alert_id, who.field, now, "template", grace_ms, staff_retry,
                replication=self.replication))
        except NotReplicated:
            # Claimed on the master only: give the claim back (nothing was sent) and retry.
            self.store.take_over(alert_id, who.field, Marker("sending", now, "template"),
                                 Marker("failed", now))
            raise RetryLater(f"claim for {short_id(who.openid)} not replicated yet") from None
        if claim.outcome in ("done", "gone"):
            return claim.outcome
        if claim.outcome == "unconfirmed":
            raise PermanentJobError("earlier send outcome unknown; a staff retry re-sends")
        if claim.outcome == "busy":
            raise RetryLater(f"send to {short_id(who.openid)} in progress or unconfirmed")
        if claim.outcome == "stale":
            previous = claim.previous
            assert previous is not None
            if previous.channel != "template":
                self.store.set_marker(alert_id, who.field,
                                      Marker("unconfirmed", now, previous.channel))
                self._log(alert_id, "send_unconfirmed", who, channel=previous.channel)
                raise PermanentJobError(f"{previous.channel} send outcome unknown; not re-sent")
            receipt = self._find_receipt(who.openid, previous.claimed_ms or previous.at_ms, now)
            if receipt:
                msgid, status = receipt
                self._record_sent(alert_id, who, state, "template", msgid, now, receipt=status)
                return "confirmed"
            if not self.store.take_over(alert_id, who.field, previous,
                                        Marker("sending", now, "template")):
                raise RetryLater("marker changed while reconciling")
            self.replication.fence(keys.alert(alert_id))
            self._log(alert_id, "resend_unconfirmed", who, channel="template")
        return self._send_chain(alert_id, who, state, follower)

    def _find_receipt(self, openid: str, claimed_ms: int, now: int) -> tuple[str, str] | None:
        """(msgid, status) of a job-finish event for ``openid`` that arrived after our claim
        and that nobody took."""
        parked = sorted(self.store.parked_finishes(openid).items(), key=lambda kv: kv[1])
        for msgid, at_ms in parked:
            if at_ms < claimed_ms:
                continue
            if now - at_ms < FINISH_SETTLE_MS:
                # Too fresh to tell whose it is; but a receipt exists, so do not re-send yet.
                raise RetryLater("a fresh receipt may be ours; checking again later")
            status = self.store.claim_finish(openid, msgid)
            if status is not None:
                return msgid, status
        return None

    # -- the channels ---------------------------------------------------------------------------

    def _send_chain(self, alert_id: str, who: Recipient, state: dict[str, str],
                    follower: Follower | None = None) -> str:
        facts = self._facts(alert_id, state)
        transient = False
        unfollowed = False
        if who.role == OFFICER:
            follower = None
        elif follower is None:
            follower = self.directory.get(who.openid)
        if follower is not None and not follower.subscribed:
            unfollowed = True
        else:
            outcome = self._attempt(lambda: self._send_template(who, facts, state))
            if outcome.kind == OK:
                self._record_sent(alert_id, who, state, "template", outcome.msgid, self.now_ms())
                return "sent"
            if outcome.kind == AMBIGUOUS:
                # The grace for a receipt runs from now (WeChat may still be working on it);
                # a receipt counts from the claim on.
                marker = self.store.marker(alert_id, who.field)
                claimed_ms = (marker.claimed_ms or marker.at_ms) if marker else self.now_ms()
                self.store.set_marker(alert_id, who.field, Marker(
                    "sending", self.now_ms(), "template", claimed_ms=claimed_ms))
                self._log(alert_id, "send_unknown", who, channel="template", error=outcome.detail)
                raise RetryLater("template send outcome unknown; waiting for its receipt")
            self._log(alert_id, "send_failed", who, channel="template", error=outcome.detail)
            unfollowed = outcome.kind == UNFOLLOWED
            transient |= outcome.kind == TRANSIENT
        if unfollowed and follower is not None:
            self._mark_unsubscribed(alert_id, who, follower)
        if not unfollowed:
            self.store.set_marker(alert_id, who.field, Marker("sending", self.now_ms(), "custom"))
            outcome = self._attempt(lambda: self._send_custom(who, facts, state))
            if outcome.kind == OK:
                self._record_sent(alert_id, who, state, "custom", "", self.now_ms())
                return "sent"
            if outcome.kind == AMBIGUOUS:
                self.store.set_marker(alert_id, who.field,
                                      Marker("unconfirmed", self.now_ms(), "custom"))
                self._log(alert_id, "send_unconfirmed", who, channel="custom")
                raise PermanentJobError("customer-service send outcome unknown; not re-sent")
            self._log(alert_id, "send_failed", who, channel="custom", error=outcome.detail)
            transient |= outcome.kind == TRANSIENT
        phone = self._sms_phone(who, state, unfollowed)
        if phone:
            self.store.set_marker(alert_id, who.field, Marker("sending", self.now_ms(), "sms"))
            outcome = self._attempt(lambda: self._send_sms(phone, who, facts))
            if outcome.kind == OK:
                self._record_sent(alert_id, who, state, "sms", "", self.now_ms())
                return "sent"
            self._log(alert_id, "send_failed", who, channel="sms", error=outcome.detail)
            transient = True  # SmsError is retryable by contract
        self.store.set_marker(alert_id, who.field, Marker("failed", self.now_ms()))
        tallies.add(self.redis, "alerts_send_failures_total", transient=str(transient).lower())
        metrics.SEND_FAILURES.labels(transient=str(transient).lower()).inc()
        if transient:
            raise RetryLater(f"no channel reached {short_id(who.openid)}; will retry")
        if unfollowed and who.role != OWNER:
            return "unfollowed"
        raise PermanentJobError(f"no channel can reach {short_id(who.openid)}")

    def _attempt(self, send: Callable[[], str]) -> Outcome:
        """Retry transient failures with exponential backoff; anything else returns at once."""
        backoff_s = self.config.alerts.retry_backoff_ms / 1000
        outcome = Outcome(TRANSIENT)
        for attempt in range(self.config.alerts.send_attempts):
            if attempt:
                self.sleep(backoff_s * 2 ** (attempt - 1))
            try:
                return Outcome(OK, msgid=send())
            except Exception as exc:  # noqa: BLE001 - _classify sorts every failure; only TRANSIENT retries
                kind = self._classify(exc)
                outcome = Outcome(kind, detail=_describe(exc))
                if kind != TRANSIENT:
                    return outcome
        return outcome

    def _classify(self, exc: Exception) -> str:
        from registration.sms import SmsError

        if isinstance(exc, SmsError):
            return TRANSIENT
        return classify_failure(exc)

    def _send_template(self, who: Recipient, facts: messages.WarningFacts,
                       state: dict[str, str]) -> str:
        advice = ("alert_value_advice" if who.role != OFFICER
                  else f"alert_value_officer_advice_{who.reason}")
        values = messages.template_values(self.library, facts, advice)
        data = messages.template_data(self.config.alerts.template_fields, values)
        url = self._answer_url(facts, who) if who.role != OFFICER else None
        result = self.wechat.message.send_template(who.openid,
                                                   self.config.wechat.warning_template_id,
                                                   data, url=url)
        return str(result.get("msgid", ""))

    def _send_custom(self, who: Recipient, facts: messages.WarningFacts,
                     state: dict[str, str]) -> str:
        if who.role == OFFICER:
            text = messages.officer_text(self.library, facts, who.reason)
        else:
            text = messages.warning_text(self.library, facts, who.role,
                                         self._answer_url(facts, who))
        self.wechat.message.send_text(who.openid, text)
        return ""

    def _send_sms(self, phone: str, who: Recipient, facts: messages.WarningFacts) -> str:
        if self.sms is None:
            from registration.sms import make_sms_gateway

            self.sms = make_sms_gateway(self.config)
        self.sms.send(phone, messages.warning_sms(self.library, facts, who.role))
        return ""

    def _sms_phone(self, who: Recipient, state: dict[str, str], unfollowed: bool) -> str:
        """SMS goes to the person's own number: the targeted number for its owner."""
        if who.role == OWNER:
            return self.vault.decrypt(state["phone_enc"])
        if who.role == OFFICER or unfollowed:
            return ""
        copy = self.redis.hget(keys.follower_phone_copies(who.openid), who.openid)
        return self.vault.decrypt(copy) if copy else ""

    def _answer_url(self, facts: messages.WarningFacts, who: Recipient) -> str:
        # Fixed per alert (not "now + ..."): a re-send is byte-identical, so WeChat-side
        # duplicate checks (and the simulator's) see it as the same message.
        expires_s = facts.received_ms // 1000 + self.config.alerts.retention_days * 86400
        return answer_url(self.config.service.public_url, self.config.service.secret_key,
                          facts.alert_id, who.openid, expires_s)

    # -- recording ------------------------------------------------------------------------------

    def _record_sent(self, alert_id: str, who: Recipient, state: dict[str, str], channel: str,
                     msgid: str, now: int, receipt: str | None = None) -> None:
        """Record a send that certainly happened, riding out a Redis failover.

        Only this process knows the send went out (and its msgid); given up, the marker would
        stay ``sending`` and, should WeChat's receipt be lost too, the warning be sent again.
        """
        deadline = time.monotonic() + RECORD_RETRY_S
        while True:
            try:
                return self._record_sent_once(alert_id, who, state, channel, msgid, now, receipt)
            except redis_lib.RedisError:
                if time.monotonic() > deadline:
                    raise
                log.warning("alert %s: recording the send to %s failed; retrying", alert_id,
                            short_id(who.openid))
                self.sleep(RECORD_RETRY_PAUSE_S)

    def _record_sent_once(self, alert_id: str, who: Recipient, state: dict[str, str],
                          channel: str, msgid: str, now: int, receipt: str | None) -> None:
        """Record a send in one round trip (this is the hot path of every warning)."""
        # A customer-service message is in the chat once the API accepted it.
        final = "delivered" if channel == "custom" else "sent"
        is_follower = who.role != OFFICER
        # The claim read the alert: no first-warning stamp there means this send is very likely
        # the first, so its latency is counted in this same trip (and taken back below in the
        # rare case another sender stamped first meanwhile).
        may_be_first = is_follower and "first_sent_ms" not in state
        latency_s = warning_latency_s(state, now)
        pipe = self.redis.pipeline(transaction=False)
        if msgid:
            self.store.map_msgid(msgid, alert_id, who.field, client=pipe)
        self.store.advance(alert_id, who.field, "sending", Marker(final, now, channel, msgid),
                           client=pipe)
        self._log(alert_id, "sent", who, channel=channel, msgid=msgid, at_ms=now, client=pipe)
        tallies.add(pipe, "alerts_warnings_sent_total", channel=channel, role=who.role)
        metrics.WARNINGS_SENT.labels(channel=channel, role=who.role).inc()
        if channel == "custom":
            self._log(alert_id, "delivered", who, channel=channel, at_ms=now, actor="wechat",
                      client=pipe)
            tallies.add(pipe, "alerts_warnings_delivered_total", channel=channel)
            metrics.WARNINGS_DELIVERED.labels(channel=channel).inc()
        first_at: int | None = None  # where the first-warning stamp's reply is
        if is_follower:
            self.store.open_warning(who.openid, alert_id, client=pipe)
            if not state.get("answer"):
                # NX: the first warning's deadline stands; later recipients change nothing.
                self.store.schedule_deadline(
                    alert_id, deadline_ms(now, self.config.alerts.answer_timeout_s), client=pipe)
            first_at = len(pipe)
            self.store.first_sent_commands(alert_id, now, pipe)
            if may_be_first:
                tallies.observe_commands(pipe, WARNING_LATENCY, latency_s)
        # The job-finish event may have come before we recorded the msgid: it was parked.
        finish_at = len(pipe)
        if msgid and receipt is None:
            self.store.claim_finish_commands(who.openid, msgid, pipe)
        replies = pipe.execute()
        if msgid and receipt is None:
            parked, claimed = replies[finish_at], replies[finish_at + 1]
            receipt = parked.partition("|")[2] if parked and claimed else None
        is_first = first_at is not None and bool(replies[first_at])
        if is_first != may_be_first:
            self._correct_latency_tally(is_first, latency_s)
        if is_first:
            metrics.WARNING_LATENCY.observe(latency_s)
        if receipt is not None:
            confirm_delivery(self.store, self.redis, alert_id, who.field, msgid, receipt, now)

    def _correct_latency_tally(self, is_first: bool, latency_s: float) -> None:
        """Count the first warning's latency once: add it if this send was first after all,
        take it back if another sender's was."""
        tallies.observe(self.redis, WARNING_LATENCY, latency_s, count=1 if is_first else -1)

    def _mark_unsubscribed(self, alert_id: str, who: Recipient, follower: Follower) -> None:
        if follower.subscribed:
            # ``follower`` may be the record intake read before earlier sends: change the
            # current one (this path is rare; the hot path does not pay for the read).
            current = self.directory.get(who.openid)
            if current is not None and current.subscribed:
                self.directory.save(Follower(**{**current.__dict__, "subscribed": False}))
        self._log(alert_id, "recipient_unfollowed", who)

    def _log(self, alert_id: str, event: str, who: Recipient, *, at_ms: int | None = None,
             actor: str = "worker", client: Any = None, **detail: Any) -> None:
        self.store.update(alert_id, event=event, actor=actor,
                          at_ms=at_ms if at_ms is not None else self.now_ms(), client=client,
                          recipient=short_id(who.openid), role=who.role,
                          **{k: v for k, v in detail.items() if v})

    def _facts(self, alert_id: str, state: dict[str, str]) -> messages.WarningFacts:
        return facts_from_state(alert_id, state, self.vault)


def facts_from_state(alert_id: str, state: dict[str, str],
                     vault: PhoneVault) -> messages.WarningFacts:
    return messages.WarningFacts(
        alert_id=alert_id, fraud_type=state["fraud_type"], channel=state["channel"],
        counterpart=state.get("counterpart", ""), risk_level=state.get("risk_level", "medium"),
        detected_ms=int(state.get("detected_ms") or 0),
        phone_masked=mask(vault.decrypt(state["phone_enc"])),
        received_ms=int(state.get("received_ms") or 0))


def warning_latency_s(state: dict[str, str], now: int) -> float:
    """Detection to this send, in seconds (pure); 0 when the source gave no detection time."""
    return max(now - int(state.get("detected_ms") or now), 0) / 1000


def confirm_delivery(store: AlertStore, redis: RedisClient, alert_id: str, field_name: str,
                     msgid: str, status: str, now: int) -> bool:
    """Apply a TEMPLATESENDJOBFINISH to a sent warning; False if the marker is not ``sent``.

    One round trip: the marker and its timeline entry move in one script, and the delivered
    tally rides along, counted before the script's answer is known and taken back (a second
    trip) only when the marker had already moved on, which a receipt rarely finds.
    """
    ok = status == "success"
    marker = Marker("delivered" if ok else "undelivered", now, "template", msgid)
    pipe = redis.pipeline(transaction=False)
    store.advance_logged_commands(alert_id, field_name, "sent", marker, pipe,
                                  event="delivered" if ok else "undelivered", actor="wechat",
                                  at_ms=now, recipient=short_id(field_name.rpartition(":")[2]),
                                  msgid=msgid, status=status)
    if ok:
        tallies.add(pipe, "alerts_warnings_delivered_total", channel="template")
    moved = bool(pipe.execute()[0])
    if not moved:
        if ok:
            tallies.add(redis, "alerts_warnings_delivered_total", -1, channel="template")
        return False
    if ok:
        metrics.WARNINGS_DELIVERED.labels(channel="template").inc()
    else:
        metrics.WARNINGS_UNDELIVERED.labels(channel="template").inc()
    return True


def _describe(exc: BaseException) -> str:
    if isinstance(exc, WeChatClientException):
        return f"errcode {exc.errcode}" if exc.errcode is not None else "http error"
    return type(exc).__name__
