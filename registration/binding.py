"""Verified phone binding: own number, guarded relatives' numbers, list, unbind, erase.

The dialog (state in ``dlg:{<openid>}``, see bot.dialogs) asks for a number, sends a 6-digit
one-time code by SMS to that number (for a relative: to the relative, whose passing on the code
is the consent) and binds when the code comes back. Rules:

- a code lives ``CODE_TTL_S`` (5 min) and allows ``MAX_TRIES`` (5) guesses; after that the
  follower is locked out of binding for ``LOCKOUT_S``;
- a new code at most every ``RESEND_AFTER_S`` per follower and per number; at most
  ``SMS_PER_NUMBER_PER_DAY`` codes to one number and ``SMS_PER_FOLLOWER_PER_DAY`` per follower;
- answers never depend on whether the number is already someone's: whoever proves possession
  of a number owns it, and the replies for a fresh and a registered number are the same.

The plain number is never stored: the dialog keeps the vault's encrypted copy, the SMS job gets
the encrypted number and code, and the code itself is kept only as a keyed hash.

Functions return a ``Reply`` (content name + fields); the handler renders it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from registration import follow, limits, stats
from store import keys
from store.followers import GUARDIAN, MAX_GUARDED, FollowerDirectory
from store.phones import (
    InvalidPhone,
    PhoneVault,
    count_digits,
    mask,
    normalize_code,
    normalize_mobile,
)
from store.redis import RedisClient
from store.streams import DurableQueue
from telemetry import metrics

CODE_TTL_S = 300
MAX_TRIES = 5
LOCKOUT_S = 900
RESEND_AFTER_S = 60
SMS_PER_NUMBER_PER_DAY = 5
SMS_PER_FOLLOWER_PER_DAY = 10
DIALOG_TIMEOUT_S = 600
ERASE_CONFIRM_S = 300
MAX_RELATION_CHARS = 8

OWN, GUARD = "bind", "guard"          # dialog names
SEND_CODE_JOB = "registration.send_code"

_CANCEL = re.compile(r"^(取消|退出|算了)$")


@dataclass(frozen=True)
class Reply:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Binder:
    """The binding operations for one request: store, vault, SMS queue and dialog access."""

    redis: RedisClient
    vault: PhoneVault
    followers: FollowerDirectory
    sms_queue: DurableQueue
    dialogs: Any        # module-like: start_dialog, dialog_state, update_dialog, end_dialog
    ctx: Any            # what bot.dialogs functions take (has .redis)

    # -- starting ----------------------------------------------------------------------------

    def start(self, openid: str, purpose: str, now: float) -> Reply:
        wait = limits.remaining_s(self.redis, "lockout", openid)
        if wait:
            return Reply("bind_too_many_tries", {"wait_min": _minutes(wait)})
        if purpose == GUARD and self._guard_full(openid, None):
            return Reply("guard_limit", {"max": MAX_GUARDED})
        self.dialogs.start_dialog(self.ctx, openid, purpose, DIALOG_TIMEOUT_S, step="phone")
        return Reply("bind_ask_phone" if purpose == OWN else "guard_ask_phone")

    # -- the dialog --------------------------------------------------------------------------

    def answer(self, openid: str, purpose: str, text: str, now: float) -> Reply:
        """The follower's text while a binding dialog is open."""
        text = (text or "").strip()
        if _CANCEL.match(text):
            self.dialogs.end_dialog(self.ctx, openid)
            return Reply("bind_cancelled")
        state = self.dialogs.dialog_state(self.ctx, openid)
        step = state.get("step", "phone")
        code = normalize_code(text) if step == "code" else None
        if code is not None:
            return self._check_code(openid, purpose, state, code, now)
        if step == "relation" and not _looks_like_number(text):
            return self._take_relation(openid, state, text, now)
        if _looks_like_number(text) or step == "phone":
            return self._take_phone(openid, purpose, text, now)
        return Reply("bind_code_hint")

    def _take_phone(self, openid: str, purpose: str, text: str, now: float) -> Reply:
        try:
            phone = normalize_mobile(text)
        except InvalidPhone:
            return Reply("bind_invalid_phone")
        lookup = self.vault.lookup_key(phone)
        if purpose == GUARD:
            if self._guard_full(openid, lookup):
                self.dialogs.end_dialog(self.ctx, openid)
                return Reply("guard_limit", {"max": MAX_GUARDED})
            self.dialogs.update_dialog(self.ctx, openid, step="relation",
                                       phone=self.vault.encrypt(phone), lookup=lookup)
            return Reply("guard_ask_relation", {"phone_masked": mask(phone)})
        return self._send_code(openid, OWN, phone, lookup, now)

    def _take_relation(self, openid: str, state: dict[str, str], text: str,
                       now: float) -> Reply:
        relation = text[:MAX_RELATION_CHARS]
        phone = self.vault.decrypt(state["phone"])
        self.dialogs.update_dialog(self.ctx, openid, relation=relation)
        return self._send_code(openid, GUARD, phone, state["lookup"], now)

    def _send_code(self, openid: str, purpose: str, phone: str, lookup: str,
                   now: float) -> Reply:
        wait = limits.remaining_s(self.redis, "lockout", openid)
        if wait:
            return Reply("bind_too_many_tries", {"wait_min": _minutes(wait)})
        # Throttles first (they cost nothing), then the daily budgets that count real SMS.
        if not limits.claim(self.redis, "resend_follower", openid, RESEND_AFTER_S):
            return Reply("bind_resend_wait",
                         {"wait_s": limits.remaining_s(self.redis, "resend_follower", openid)})
        if not limits.claim(self.redis, "resend_number", lookup, RESEND_AFTER_S):
            # No SMS went out, so this follower has no code to wait for: free their throttle
            # (else their next try would hear "验证码刚刚发出" about a code never sent).
            limits.release(self.redis, "resend_follower", openid)
            return Reply("bind_rate_limited")
        if not (limits.within_limit(self.redis, "sms_follower", openid,
                                    SMS_PER_FOLLOWER_PER_DAY, 86400, now)
                and limits.within_limit(self.redis, "sms_number", lookup,
                                        SMS_PER_NUMBER_PER_DAY, 86400, now)):
            return Reply("bind_rate_limited")
        code = f"{secrets.randbelow(10**6):06d}"
        self.dialogs.update_dialog(
            self.ctx, openid, step="code", phone=self.vault.encrypt(phone), lookup=lookup,
            code=self._code_mac(openid, lookup, code), expires_at=str(int(now) + CODE_TTL_S),
            tries="0")
        self.sms_queue.enqueue(SEND_CODE_JOB, {
            "to": self.vault.encrypt(phone), "code": self.vault.encrypt(code),
            "purpose": purpose}, job_id=f"otp:{uuid.uuid4().hex}")
        metrics.OTP_SENT.labels(purpose=purpose).inc()
        name = "bind_code_sent" if purpose == OWN else "guard_code_sent"
        return Reply(name, {"phone_masked": mask(phone), "ttl_min": CODE_TTL_S // 60})

    def _check_code(self, openid: str, purpose: str, state: dict[str, str], code: str,
                    now: float) -> Reply:
        # The guess is counted before it is looked at, in one atomic step: of any number of
        # guesses arriving at once, only MAX_TRIES are ever compared with the code.
        tries = self.dialogs.count_in_dialog(self.ctx, openid, "tries")
        if tries is None:
            return Reply("bind_code_expired")
        if tries > MAX_TRIES:
            return Reply("bind_too_many_tries", {"wait_min": LOCKOUT_S // 60})
        verdict = check_code(state, self._code_mac(openid, state.get("lookup", ""), code), now)
        if verdict != "ok":
            metrics.OTP_FAILURES.labels(reason=verdict).inc()
        if verdict == "expired":
            self.dialogs.end_dialog(self.ctx, openid)
            return Reply("bind_code_expired")
        if verdict == "wrong":
            if tries >= MAX_TRIES:
                self.dialogs.end_dialog(self.ctx, openid)
                limits.claim(self.redis, "lockout", openid, LOCKOUT_S)
                metrics.OTP_FAILURES.labels(reason="locked_out").inc()
                return Reply("bind_too_many_tries", {"wait_min": LOCKOUT_S // 60})
            return Reply("bind_code_wrong", {"tries_left": MAX_TRIES - tries})
        phone = self.vault.decrypt(state["phone"])
        self.dialogs.end_dialog(self.ctx, openid)
        if purpose == OWN:
            return self._bind_own(openid, phone, now)
        return self._guard(openid, phone, state.get("relation", ""), now)

    def _bind_own(self, openid: str, phone: str, now: float) -> Reply:
        before = self.followers.get(openid)
        if before is None:
            # Followed before this system kept records: register them unattributed.
            before = follow.record_follow(self.redis, self.followers, openid, None, now).follower
        lookup = self.vault.lookup_key(phone)
        previous_owner = self.redis.hget(keys.phone_owner(lookup), lookup)
        previous = self.followers.get(previous_owner) if previous_owner not in (None, openid) \
            else None
        self.followers.bind_own_phone(openid, phone)
        after = self.followers.get(openid)
        guarded = self.followers.guarded_count(openid)
        stats.apply(self.redis, now, stats.change(before, guarded, after, guarded),
                    stats.event_fields("binds", before.officer, before.community))
        if previous is not None and previous.own_phone == lookup:
            # The number moved: the old owner's "bound" gauge goes with it.
            g = self.followers.guarded_count(previous.openid)
            stats.apply(self.redis, now,
                        stats.change(previous, g, replace(previous, own_phone=""), g))
        return Reply("bind_ok", {"phone_masked": mask(phone)})

    def _guard(self, openid: str, phone: str, relation: str, now: float) -> Reply:
        before = self.followers.get(openid)
        if before is None:
            before = follow.record_follow(self.redis, self.followers, openid, None, now).follower
        guarded_before = self.followers.guarded_count(openid)
        try:
            self.followers.guard_phone(openid, phone)
        except ValueError:
            return Reply("guard_limit", {"max": MAX_GUARDED})
        guarded_after = self.followers.guarded_count(openid)
        stats.apply(self.redis, now,
                    stats.change(before, guarded_before, before, guarded_after),
                    stats.event_fields("guards", before.officer, before.community))
        return Reply("guard_ok", {"phone_masked": mask(phone), "relation": relation})

    # -- list, unbind, erase -----------------------------------------------------------------

    def listing(self, openid: str) -> list[tuple[int, str, str]]:
        """(index, role, masked number) in a stable order: own number first."""
        return [(i, b.role, b.masked)
                for i, b in enumerate(self.followers.bindings(openid), start=1)]

    def unbind(self, openid: str, index: int, now: float) -> Reply:
        bindings = self.followers.bindings(openid)
        if not 1 <= index <= len(bindings):
            return Reply("unbind_bad_index")
        chosen = bindings[index - 1]
        before = self.followers.get(openid)
        guarded_before = self.followers.guarded_count(openid)
        self.followers.unbind(openid, chosen.lookup_key)
        after = self.followers.get(openid)
        guarded_after = self.followers.guarded_count(openid)
        stats.apply(self.redis, now, stats.change(before, guarded_before, after, guarded_after))
        return Reply("unbind_ok", {"phone_masked": chosen.masked})

    def ask_erase(self, openid: str) -> Reply:
        limits.release(self.redis, "erase", openid)
        limits.claim(self.redis, "erase", openid, ERASE_CONFIRM_S)
        return Reply("erase_ask", {"wait_min": ERASE_CONFIRM_S // 60})

    def erase(self, openid: str, now: float) -> Reply:
        if not limits.remaining_s(self.redis, "erase", openid):
            return self.ask_erase(openid)
        limits.release(self.redis, "erase", openid)
        before = self.followers.get(openid)
        guarded = self.followers.guarded_count(openid)
        self.followers.erase(openid)
        self.dialogs.end_dialog(self.ctx, openid)
        officer, community = (before.officer, before.community) if before else ("", "")
        stats.apply(self.redis, now, stats.change(before, guarded, None, 0),
                    stats.event_fields("erasures", officer, community))
        return Reply("erase_done")

    # -- internals ---------------------------------------------------------------------------

    def _guard_full(self, openid: str, lookup: str | None) -> bool:
        guarded = [b.lookup_key for b in self.followers.bindings(openid) if b.role == GUARDIAN]
        return len(guarded) >= MAX_GUARDED and lookup not in guarded

    def _code_mac(self, openid: str, lookup: str, code: str) -> str:
        # Bound to follower and number: a code sent for one binding is useless for another.
        return self.vault.lookup_key(f"otp|{openid}|{lookup}|{code}")


def check_code(state: dict[str, str], presented_mac: str, now: float) -> str:
    """"ok", "wrong" or "expired" for a presented code's keyed hash (pure)."""
    if now > int(state.get("expires_at", "0")):
        return "expired"
    if not hmac.compare_digest(state.get("code", ""), presented_mac):
        return "wrong"
    return "ok"


def _looks_like_number(text: str) -> bool:
    return count_digits(text) >= 7


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))
