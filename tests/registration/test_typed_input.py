"""Numbers and codes as people really type them (Chinese input methods give full-width digits),
and guesses arriving at the same moment: through the real webhook and a real Redis."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from registration import binding
from tests.conftest import RISK_KEY
from tests.registration.conftest import last_code, sms_count

PHONE = "13912345678"
TYPED_FORMS = ["139 1234 5678", "１３９１２３４５６７８", "１３９　１２３４　５６７８",
               "139-1234-5678", "139－1234－5678", "+86 139 1234 5678",
               "＋８６１３９１２３４５６７８",
               "0086 13912345678", "8613912345678", "(139) 1234—5678"]


def _full_width(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.mark.parametrize("typed", TYPED_FORMS)
def test_every_typed_form_of_a_number_sends_the_code_to_that_number(citizen, worker, sbx, typed):
    citizen.follow()
    citizen.send("绑定")
    assert "139****5678" in citizen.send(typed)
    worker.drain()
    assert sms_count(sbx, PHONE) == 1


@pytest.mark.parametrize("shape", ["full_width", "spaced", "ideographic_spaces", "dashed"])
def test_a_code_typed_in_full_width_or_with_spaces_binds_the_number(citizen, worker, sbx,
                                                                     followers, shape):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    code = last_code(sbx, PHONE)
    typed = {"full_width": _full_width(code), "spaced": f"{code[:3]} {code[3:]}",
             "ideographic_spaces": "　".join(_full_width(code)),
             "dashed": f"{code[:3]}-{code[3:]}"}[shape]
    assert "绑定成功" in citizen.send(typed)
    lookup = followers.vault.lookup_key(PHONE)
    assert followers.recipients_for_phone(lookup) == [(citizen.openid, "owner")]


def test_guarding_a_relative_accepts_a_full_width_number(citizen, worker, sbx):
    citizen.follow()
    citizen.send("守护")
    assert "139****5678" in citizen.send(_full_width(PHONE))
    citizen.send("妈妈")
    worker.drain()
    assert sms_count(sbx, PHONE) == 1


def test_digits_of_other_scripts_are_not_a_number(citizen, worker, sbx):
    citizen.follow()
    citizen.send("绑定")
    # Arabic-Indic digits match Python's \d but are no mainland number anyone can receive SMS on.
    assert "格式不对" in citizen.send("١٣٩١٢٣٤٥٦٧٨")
    worker.drain()
    assert sms_count(sbx) == 0


def test_lookup_of_a_full_width_number_finds_the_ascii_record(citizen, redis):
    from intel import risklist

    risklist.record_counterpart(redis, RISK_KEY,
                                "13912345678", "impersonation", "test", 1_700_000_000)
    reply = citizen.send("查号 " + _full_width("139 1234 5678"))
    assert "风险库中有记录" in reply


def test_concurrent_guesses_evaluate_at_most_max_tries(make_citizen, worker, sbx, followers):
    citizen = make_citizen("oGuesser00000000000000000000")
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    real = last_code(sbx, PHONE)
    wrong = [f"{(int(real) + i) % 10**6:06d}" for i in range(1, 31)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(citizen.send, wrong))
    tries_left = [int(m.group(1)) for r in replies
                  if (m := re.search(r"还可以再试(\d+)次", r or ""))]
    # Each evaluated wrong guess reports its own place in the count: 4, 3, 2, 1, then lockout.
    assert sorted(tries_left) == sorted(set(tries_left))
    assert len(tries_left) <= binding.MAX_TRIES - 1
    assert any("尝试次数过多" in (r or "") for r in replies)
    assert "绑定成功" not in (citizen.send(real) or "")
    assert followers.recipients_for_phone(followers.vault.lookup_key(PHONE)) == []


def test_unbind_with_a_full_width_index_removes_that_number(citizen, worker, sbx, followers):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    citizen.send(last_code(sbx, PHONE))
    assert "139****5678" in citizen.send("解绑１")
    assert followers.recipients_for_phone(followers.vault.lookup_key(PHONE)) == []
