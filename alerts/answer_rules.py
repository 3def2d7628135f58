"""The rules for answers to one warning sent to several people (pure functions of plain values).

A targeted number has an owner and may have guardians; each of them gets the warning and each
answer is kept per person (hash fields ``ans:<openid>`` on the alert). The rules, as a family
would want them:

- "paid" (已转账) from anyone opens the urgent case, once, even after someone else said "safe":
  a guardian's "safe" may be a guess, the victim's "paid" is a fact.
- "safe" never overwrites "paid", neither the same person's nor anyone's.
- The desk's headline answer is the owner's own answer when there is one; otherwise "paid" if
  anyone paid, otherwise "safe".
- A staff-closed alert stays closed: a later answer goes on its timeline only (``late:<openid>``
  remembers which answers were seen, so repeats add nothing).
- Repeating an answer changes nothing and adds no timeline entry, so one person can add at most
  two "answered" and two "late_answer" entries: the timeline stays bounded.
- Escalation at the answer deadline: the alert escalates unless it is settled. It is settled by a
  case (someone paid: that already reached the officer and 96110), by a staff close, by the
  owner's own "safe", or by anyone's "safe" when the owner cannot answer (no owner among the
  recipients, or the owner's warning was never sent or failed). A guardian's "safe" does not
  cancel the owner's deadline: the scammer is talking to the owner, not to the guardian.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from alerts.model import PAID, SAFE
from store.followers import OWNER

ANSWER_PREFIX = "ans:"
LATE_PREFIX = "late:"
# Owner's delivery states from which an answer was possible (alerts.store markers).
REACHED_STATES = ("sending", "sent", "delivered", "unconfirmed")


def answer_field(openid: str) -> str:
    return ANSWER_PREFIX + openid


def late_field(openid: str) -> str:
    return LATE_PREFIX + openid


@dataclass(frozen=True)
class Answers:
    """What the rules need from an alert hash."""

    answers: Mapping[str, str] = field(default_factory=dict)  # openid → safe|paid (in time)
    late: Mapping[str, str] = field(default_factory=dict)     # openid → "paid,safe" after close
    roles: Mapping[str, str] = field(default_factory=dict)    # openid → owner|guardian
    owner_reached: bool = False
    case_opened: bool = False
    escalated: bool = False
    closed: bool = False

    @property
    def owner(self) -> str | None:
        return next((o for o, r in self.roles.items() if r == OWNER), None)


def parse(state: Mapping[str, str]) -> Answers:
    """Read the rules' view out of an alert hash (``alerts.store``)."""
    roles: dict[str, str] = {}
    for item in (state.get("recipients") or "").split(","):
        openid, _, role = item.partition(":")
        if openid:
            roles[openid] = role
    answers = {k[len(ANSWER_PREFIX):]: v.partition("|")[0] for k, v in state.items()
               if k.startswith(ANSWER_PREFIX)}
    late = {k[len(LATE_PREFIX):]: v for k, v in state.items() if k.startswith(LATE_PREFIX)}
    owner = next((o for o, r in roles.items() if r == OWNER), None)
    marker = state.get(f"r:{owner}", "") if owner else ""
    return Answers(answers=answers, late=late, roles=roles,
                   owner_reached=marker.partition("|")[0] in REACHED_STATES,
                   case_opened=bool(state.get("case_opened_ms")),
                   escalated=bool(state.get("escalated_ms")),
                   closed=bool(state.get("closed_ms")))


@dataclass(frozen=True)
class Decision:
    """What one answer changes. ``event`` is the timeline entry to add ("" for none)."""

    event: str = ""            # answered | late_answer | ""
    record: str = ""           # value to store in ans:<openid> / late:<openid>, "" for none
    late: bool = False
    open_case: bool = False    # this answer opens the urgent case (the first "paid")
    headline: str = ""         # alert-level ``answer`` after this answer ("" if unchanged)
    status: str = ""           # new alert ``status`` ("" if unchanged)
    own_answer: str = ""       # this person's answer as it now stands (for the reply)


def decide(current: Answers, openid: str, answer: str) -> Decision:
    """Apply one answer from ``openid`` to the alert."""
    previous = current.answers.get(openid)
    if current.closed:
        seen = [a for a in current.late.get(openid, "").split(",") if a]
        own = PAID if PAID in (previous, answer) else (previous or answer)
        if answer in seen:
            return Decision(late=True, own_answer=own)
        return Decision(event="late_answer", record=",".join(sorted({*seen, answer})),
                        late=True, own_answer=own)
    if previous == PAID:
        return Decision(own_answer=PAID)  # "safe" never overwrites "paid"; "paid" again: no-op
    if previous == answer:
        return Decision(own_answer=answer)
    answers = {**current.answers, openid: answer}
    open_case = answer == PAID and not current.case_opened
    if open_case or current.case_opened:
        status = "urgent"
    elif current.escalated:
        status = ""
    else:
        status = "answered"
    return Decision(event="answered", record=answer, open_case=open_case,
                    headline=headline(answers, current.roles), status=status, own_answer=answer)


def headline(answers: Mapping[str, str], roles: Mapping[str, str]) -> str:
    """The owner's own answer first; else "paid" if anyone paid; else "safe"; "" for none."""
    owner = next((o for o, r in roles.items() if r == OWNER), None)
    if owner is not None and owner in answers:
        return answers[owner]
    if PAID in answers.values():
        return PAID
    return SAFE if answers else ""


def is_settled(current: Answers) -> bool:
    """Nothing left to escalate for (see the module docstring)."""
    if current.closed or current.case_opened:
        return True
    owner = current.owner
    if owner is not None and current.answers.get(owner) == SAFE:
        return True
    owner_can_answer = owner is not None and current.owner_reached
    return not owner_can_answer and SAFE in current.answers.values()


def needs_escalation(current: Answers) -> bool:
    """At the deadline: not settled and not escalated before."""
    return not current.escalated and not is_settled(current)


def ordered_answers(current: Answers) -> list[tuple[str, str, str]]:
    """(openid, role, answer) for the desk: the owner first, then the others."""
    rows = [(o, current.roles.get(o, ""), a) for o, a in current.answers.items()]
    return sorted(rows, key=lambda row: row[1] != OWNER)
