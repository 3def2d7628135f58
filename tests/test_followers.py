"""Follower directory and phone privacy against real Redis."""

from __future__ import annotations

import pytest

from store.followers import Follower, FollowerDirectory
from store.phones import InvalidPhone, PhoneVault, mask, normalize_mobile

PHONE = "13812345678"


@pytest.fixture
def directory(redis, config):
    return FollowerDirectory(redis, PhoneVault.from_config(config.privacy))


def follow(directory, openid, officer="off1", community="c1"):
    directory.save(Follower(openid, True, 1_700_000_000, officer, community, ""))


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678",
                                 "１３８１２３４５６７８", "(138)12345678"])
def test_mainland_mobile_numbers_normalise(raw):
    assert normalize_mobile(raw) == PHONE


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "abc",
                                 "13812345678; DROP", "+1 415 555 0100", "１３８"])
def test_other_input_is_not_a_phone(raw):
    with pytest.raises(InvalidPhone):
        normalize_mobile(raw)


def test_phone_is_never_stored_in_plain_text(directory, redis):
    follow(directory, "o_a")
    directory.bind_own_phone("o_a", PHONE)
    directory.guard_phone("o_a", "13900001111")
    dump = " ".join(str(redis.dump(k)) + k for k in redis.keys("*"))
    assert PHONE not in dump and "13900001111" not in dump
    assert "12345678" not in dump


def test_bindings_show_masked_numbers(directory):
    follow(directory, "o_a")
    directory.bind_own_phone("o_a", PHONE)
    directory.guard_phone("o_a", "13900001111")
    assert [(b.role, b.masked) for b in directory.bindings("o_a")] == [
        ("owner", mask(PHONE)), ("guardian", "139****1111")]


def test_owner_and_guardians_receive_warnings_for_a_number(directory):
    for openid in ("o_owner", "o_son", "o_daughter"):
        follow(directory, openid)
    directory.bind_own_phone("o_owner", PHONE)
    directory.guard_phone("o_son", PHONE)
    directory.guard_phone("o_daughter", PHONE)
    lookup = directory.vault.lookup_key(PHONE)
    assert directory.recipients_for_phone(lookup) == [
        ("o_owner", "owner"), ("o_son", "guardian"), ("o_daughter", "guardian")]


def test_unsubscribed_follower_receives_nothing(directory):
    follow(directory, "o_a")
    directory.bind_own_phone("o_a", PHONE)
    follower = directory.get("o_a")
    directory.save(Follower(**{**follower.__dict__, "subscribed": False}))
    assert directory.recipients_for_phone(directory.vault.lookup_key(PHONE)) == []


def test_a_guardian_may_guard_at_most_five_numbers(directory):
    follow(directory, "o_a")
    for i in range(5):
        directory.guard_phone("o_a", f"1390000000{i}")
    with pytest.raises(ValueError):
        directory.guard_phone("o_a", "13900000009")


def test_new_verified_owner_replaces_the_old_one(directory):
    follow(directory, "o_old")
    follow(directory, "o_new")
    directory.bind_own_phone("o_old", PHONE)
    directory.bind_own_phone("o_new", PHONE)
    lookup = directory.vault.lookup_key(PHONE)
    assert directory.recipients_for_phone(lookup) == [("o_new", "owner")]
    assert directory.bindings("o_old") == []


def test_unbind_and_erase_remove_every_trace(directory, redis):
    follow(directory, "o_a")
    directory.bind_own_phone("o_a", PHONE)
    directory.guard_phone("o_a", "13900001111")
    lookup = directory.vault.lookup_key(PHONE)
    assert directory.unbind("o_a", lookup)
    assert directory.recipients_for_phone(lookup) == []
    directory.touch("o_a", 1_700_000_000)
    directory.erase("o_a")
    assert directory.get("o_a") is None
    assert redis.dbsize() == 0


def test_iter_followers_streams_everyone_once(directory):
    for i in range(250):
        follow(directory, f"o_{i}")
    assert sorted(f.openid for f in directory.iter_followers()) == sorted(
        f"o_{i}" for i in range(250))


def test_guarding_on_cluster(cluster_redis, config):
    directory = FollowerDirectory(cluster_redis, PhoneVault.from_config(config.privacy))
    follow(directory, "o_a")
    follow(directory, "o_b")
    directory.bind_own_phone("o_a", PHONE)
    directory.guard_phone("o_b", PHONE)
    assert len(directory.recipients_for_phone(directory.vault.lookup_key(PHONE))) == 2
    directory.erase("o_b")
    assert directory.recipients_for_phone(directory.vault.lookup_key(PHONE)) == [("o_a", "owner")]
