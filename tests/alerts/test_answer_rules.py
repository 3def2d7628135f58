"""The answer rules as pure functions: escalation decisions and generated answer sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alerts.answer_rules import Answers, decide, is_settled, needs_escalation, parse

ROLES = {"mum": "owner", "son": "guardian", "niece": "guardian"}


def test_a_guardian_safe_does_not_settle_a_warned_owner():
    assert needs_escalation(Answers(answers={"son": "safe"}, roles=ROLES, owner_reached=True))


def test_a_guardian_safe_settles_when_the_owner_warning_failed():
    state = parse({"recipients": "mum:owner,son:guardian", "r:mum": "failed|1||",
                   "ans:son": "safe|2|reply"})
    assert is_settled(state)


def test_the_owner_safe_settles_and_an_open_case_settles():
    assert is_settled(Answers(answers={"mum": "safe"}, roles=ROLES, owner_reached=True))
    assert is_settled(Answers(roles=ROLES, owner_reached=True, case_opened=True))


@given(st.lists(st.one_of(st.tuples(st.sampled_from(sorted(ROLES)),
                                    st.sampled_from(["safe", "paid"])),
                          st.just(("staff", "close"))), max_size=15))
def test_paid_while_open_opens_exactly_one_case_and_never_reverts(sequence):
    answers: dict[str, str] = {}
    late: dict[str, str] = {}
    opened = closed = 0
    for who, what in sequence:
        if what == "close":
            closed = 1
            continue
        decision = decide(Answers(answers=dict(answers), late=dict(late), roles=ROLES,
                                  owner_reached=True, case_opened=opened > 0,
                                  closed=bool(closed)), who, what)
        before = dict(answers)
        if decision.late:
            if decision.record:
                late[who] = decision.record
        elif decision.record:
            answers[who] = decision.record
        opened += decision.open_case
        for person, answer in before.items():
            if answer == "paid":
                assert answers[person] == "paid"
        if decision.headline and "mum" not in answers:
            assert decision.headline == ("paid" if "paid" in answers.values() else "safe")
    paid_in_time = False
    closed_yet = False
    for _who, what in sequence:
        closed_yet |= what == "close"
        paid_in_time |= what == "paid" and not closed_yet
    assert opened == (1 if paid_in_time else 0)
