"""Phone binding through the real webhook: codes by SMS on the simulated phone, hostile input."""

from __future__ import annotations

import json

from registration import binding
from store import keys
from tests.registration.conftest import last_code, sms_count

PHONE = "13812345678"
OTHER = "13900001111"


def _bind(citizen, worker, sbx, phone=PHONE):
    citizen.send("绑定")
    sent = citizen.send(phone)
    worker.drain()
    return sent, citizen.send(last_code(sbx, phone))


def test_follower_binds_own_number_with_the_code_from_the_sms(citizen, worker, sbx, followers):
    citizen.follow()
    assert "11位手机号" in citizen.send("绑定")
    assert "138****5678" in citizen.send("138 1234 5678")
    worker.drain()
    assert "绑定成功" in citizen.send(last_code(sbx, PHONE))
    lookup = followers.vault.lookup_key(PHONE)
    assert followers.recipients_for_phone(lookup) == [(citizen.openid, "owner")]


def test_malformed_numbers_are_refused_without_sending_sms(citizen, worker, sbx):
    citizen.follow()
    citizen.send("绑定")
    for bad in ("12345678901", "1381234567", "138123456789", "abc13812345678", "+1 2025550100",
                "１３８ABCD５６７８", "' OR 1=1 --"):
        assert "格式不对" in citizen.send(bad)
    worker.drain()
    assert sms_count(sbx) == 0


def test_full_width_and_country_code_numbers_are_accepted(citizen, worker, sbx):
    citizen.follow()
    citizen.send("绑定")
    assert "138****5678" in citizen.send("+86 １３８-1234-5678")
    worker.drain()
    assert sms_count(sbx, PHONE) == 1


def test_wrong_codes_five_times_lock_binding_and_bind_nothing(citizen, worker, sbx, followers):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    real = last_code(sbx, PHONE)
    guesses = [f"{(int(real) + i) % 10**6:06d}" for i in range(1, 6)]
    replies = [citizen.send(g) for g in guesses]
    assert "还可以再试4次" in replies[0]
    assert "尝试次数过多" in replies[-1]
    # The real code no longer works, and a new attempt is refused while locked out.
    assert "绑定成功" not in (citizen.send(real) or "")
    assert "尝试次数过多" in citizen.send("绑定")
    assert followers.recipients_for_phone(followers.vault.lookup_key(PHONE)) == []


def test_an_expired_code_is_refused(citizen, worker, sbx, redis, followers):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    # Age the pending code past its 5 minutes.
    redis.hset(keys.dialog(citizen.openid), "expires_at", "1")
    assert "已过期" in citizen.send(last_code(sbx, PHONE))
    assert followers.recipients_for_phone(followers.vault.lookup_key(PHONE)) == []


def test_asking_again_within_a_minute_sends_no_second_sms(citizen, worker, sbx):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    assert "秒后" in citizen.send(PHONE)
    worker.drain()
    assert sms_count(sbx, PHONE) == 1


def test_a_code_refused_for_the_number_does_not_hold_back_the_followers_next_try(
        make_citizen, worker, sbx, redis):
    # The README's walk-through: the owner binds, a relative at once guards the same number.
    owner, relative = make_citizen("oOwner0000000000000000000000"), \
        make_citizen("oRelative000000000000000000")
    owner.follow()
    relative.follow()
    _bind(owner, worker, sbx)
    relative.send("守护")
    relative.send(PHONE)
    assert "太频繁" in relative.send("妈妈")
    # Once the number's throttle is over, the relative's next try sends the code: no SMS went
    # to them, so there is nothing to "wait for" ("验证码刚刚发出").
    redis.delete(keys.registration_limit("resend_number", _lookup(owner.config, PHONE)))
    relative.send("守护")
    relative.send(PHONE)
    assert "验证码已发送至家人手机" in relative.send("妈妈")


def test_flooding_one_number_from_many_followers_is_capped_per_day(make_citizen, worker, sbx,
                                                                   redis):
    replies = []
    for i in range(binding.SMS_PER_NUMBER_PER_DAY + 3):
        attacker = make_citizen(f"oFlood{i:022d}")
        attacker.follow()
        attacker.send("绑定")
        replies.append(attacker.send(PHONE))
        # Step past the 60 s per-number resend throttle; the daily budget still counts.
        redis.delete(keys.registration_limit("resend_number",
                                             _lookup(attacker.config, PHONE)))
    worker.drain()
    assert sms_count(sbx, PHONE) == binding.SMS_PER_NUMBER_PER_DAY
    assert all("太频繁" in r for r in replies[binding.SMS_PER_NUMBER_PER_DAY:])


def test_binding_someone_elses_number_without_their_code_fails(make_citizen, worker, sbx,
                                                               followers, redis):
    owner, attacker = make_citizen("oOwner0000000000000000000000"), \
        make_citizen("oAttacker00000000000000000000")
    owner.follow()
    attacker.follow()
    _bind(owner, worker, sbx)
    redis.delete(keys.registration_limit("resend_number", _lookup(owner.config, PHONE)))
    sbx_count = sms_count(sbx, PHONE)
    attacker.send("绑定")
    attacker.send(PHONE)
    worker.drain()
    # The code went to the owner's phone; the attacker can only guess.
    assert sms_count(sbx, PHONE) == sbx_count + 1
    for guess in ("000000", "123456", "111111", "999999", "654321"):
        attacker.send(guess)
    lookup = followers.vault.lookup_key(PHONE)
    assert followers.recipients_for_phone(lookup) == [(owner.openid, "owner")]


def test_replies_do_not_reveal_that_a_number_is_already_registered(make_citizen, worker, sbx,
                                                                  redis):
    owner = make_citizen("oOwner0000000000000000000000")
    owner.follow()
    _bind(owner, worker, sbx)
    redis.delete(keys.registration_limit("resend_number", _lookup(owner.config, PHONE)))
    first, second = make_citizen("oFirst0000000000000000000000"), \
        make_citizen("oSecond000000000000000000000")
    for c in (first, second):
        c.follow()
        c.send("绑定")
    taken = first.send(PHONE)
    fresh = second.send(OTHER)
    assert taken.replace("138****5678", "X") == fresh.replace("139****1111", "X")


def test_sms_jobs_and_dialog_state_never_hold_the_plain_number(citizen, redis):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    for key in redis.scan_iter("*"):
        kind = redis.type(key)
        read = {"hash": redis.hgetall, "stream": redis.xrange, "string": redis.get}.get(kind)
        dump = json.dumps(read(key) if read else "")
        assert PHONE not in dump and "5678" not in dump.replace("\\", ""), key


def test_cancel_leaves_the_dialog(citizen, redis):
    citizen.follow()
    citizen.send("绑定")
    assert "已退出" in citizen.send("取消")
    assert not redis.exists(keys.dialog(citizen.openid))


def test_guarding_a_relative_needs_the_code_sent_to_the_relatives_phone(citizen, worker, sbx,
                                                                        followers):
    citizen.follow()
    assert "家人" in citizen.send("守护")
    assert "139****1111" in citizen.send(OTHER)
    assert "验证码已发送至家人手机" in citizen.send("妈妈")
    worker.drain()
    assert "守护" in sbx.messages(kind="sms")[-1]["payload"]["text"]
    reply = citizen.send(last_code(sbx, OTHER))
    assert "你的妈妈（139****1111）" in reply
    assert followers.recipients_for_phone(followers.vault.lookup_key(OTHER)) == [
        (citizen.openid, "guardian")]


def test_a_number_may_be_guarded_by_several_followers(make_citizen, worker, sbx, followers,
                                                       redis):
    children = [make_citizen(f"oChild{i:022d}") for i in range(2)]
    for child in children:
        child.follow()
        child.send("守护")
        child.send(OTHER)
        child.send("爸爸")
        worker.drain()
        child.send(last_code(sbx, OTHER))
        redis.delete(keys.registration_limit("resend_number", _lookup(child.config, OTHER)))
    found = followers.recipients_for_phone(followers.vault.lookup_key(OTHER))
    assert sorted(found) == sorted((c.openid, "guardian") for c in children)


def test_at_most_five_relatives_can_be_guarded(citizen, followers):
    citizen.follow()
    for i in range(5):
        followers.guard_phone(citizen.openid, f"1370000000{i}")
    assert "最多可为5位家人" in citizen.send("守护")


def test_my_bindings_lists_numbers_masked(citizen, worker, sbx, followers):
    citizen.follow()
    _bind(citizen, worker, sbx)
    followers.guard_phone(citizen.openid, OTHER)
    listing = citizen.click("MY_BINDINGS")
    assert "1. 本人 138****5678" in listing and "2. 家人 139****1111" in listing
    assert PHONE not in listing and OTHER not in listing
    assert citizen.send("我的绑定") == listing


def test_unbind_removes_the_chosen_number(citizen, worker, sbx, followers):
    citizen.follow()
    _bind(citizen, worker, sbx)
    followers.guard_phone(citizen.openid, OTHER)
    assert "解绑1" in citizen.send("解绑")
    assert "139****1111" in citizen.send("解绑2")
    assert followers.recipients_for_phone(followers.vault.lookup_key(OTHER)) == []
    assert "没有这个序号" in citizen.send("解绑7")


def test_erase_after_confirmation_deletes_everything(citizen, worker, sbx, followers, redis):
    citizen.follow()
    _bind(citizen, worker, sbx)
    followers.guard_phone(citizen.openid, OTHER)
    assert "确认注销" in citizen.send("注销")
    assert "已注销" in citizen.send("确认注销")
    assert followers.get(citizen.openid) is None
    assert followers.bindings(citizen.openid) == []
    assert followers.recipients_for_phone(followers.vault.lookup_key(PHONE)) == []
    assert followers.recipients_for_phone(followers.vault.lookup_key(OTHER)) == []


def test_confirming_erase_without_asking_first_only_asks(citizen, worker, sbx, followers):
    citizen.follow()
    _bind(citizen, worker, sbx)
    assert "确认注销" in citizen.send("确认注销")
    assert followers.get(citizen.openid) is not None


def test_sms_gateway_failure_is_retried_by_the_queue(citizen, worker, sbx):
    citizen.follow()
    citizen.send("绑定")
    citizen.send(PHONE)
    sbx.set_fault(api="sms", fault="http", http_status=503, times=1)
    worker.drain()
    assert sms_count(sbx, PHONE) == 0
    assert worker.queue.depth() == 1  # left pending: reclaimed and retried later


def _lookup(config, phone):
    from store.phones import PhoneVault

    return PhoneVault.from_config(config.privacy).lookup_key(phone)


def test_menu_buttons_start_binding_and_guarding(citizen):
    citizen.follow()
    assert citizen.click("BIND_PHONE") == citizen.send("绑定")
    citizen.send("取消")
    assert citizen.click("GUARD_RELATIVE") == citizen.send("守护")
