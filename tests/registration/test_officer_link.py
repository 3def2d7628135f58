"""Linking an officer's own WeChat by a one-time code: who may issue one, and that a code is
single-use, short-lived, kept only as a digest, and cannot be guessed."""

from __future__ import annotations

import re
import threading
import time

import pytest

from console import audit
from registration import directory as d
from registration import officer_link
from store import keys
from tests.staff import sign_in

OFFICER_PHONE_OPENID = "oOfficerPhoneAAAAAAAAAAAAAAA"


@pytest.fixture
def seeded(redis):
    for sid, name in (("s1", "城东派出所"), ("s2", "城西派出所")):
        d.save_station(redis, d.Station(sid, name))
    d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1"))
    d.save_officer(redis, d.Officer("o2", "李警官", "010002", "s2"))


def _openid(redis, officer_id):
    officer = d.get_officer(redis, officer_id)
    assert officer is not None
    return officer.openid


def _issue(client, officer_id="o1", role="officer", station="s1"):
    sign_in(client, role, station, username=f"u-{role}-{station}")
    return client.post(f"/api/v1/officers/{officer_id}/link-code", json={})


def test_an_officer_issues_a_code_for_their_station_and_the_issue_is_audited(client, seeded,
                                                                            redis):
    response = _issue(client)
    assert response.status_code == 200
    body = response.get_json()
    assert re.fullmatch(r"\d{8}", body["code"])
    assert body["message"] == f"警员绑定 {body['code']}"
    assert body["expires_in_s"] == 900
    actions = [e["action"] for e in audit.entries(redis)]
    assert "registration.officers.link_code" in actions


def test_the_code_is_stored_only_as_a_digest_with_a_quarter_hour_ttl(client, seeded, redis):
    code = _issue(client).get_json()["code"]
    stored = list(redis.scan_iter("reg:olink:*"))
    assert len(stored) == 1
    assert code not in stored[0] and redis.get(stored[0]) == "o1"
    assert 0 < redis.ttl(stored[0]) <= 900


@pytest.mark.parametrize(("role", "station", "officer_id", "status"), [
    ("officer", "s1", "o2", 403),        # another station's officer
    ("propaganda", "", "o1", 403),
    ("duty", "", "o1", 403),
    ("officer", "s1", "nobody", 404),
])
def test_codes_are_refused_outside_the_issuers_rights(client, seeded, redis, role, station,
                                                      officer_id, status):
    assert _issue(client, officer_id, role, station).status_code == status
    assert list(redis.scan_iter("reg:olink:*")) == []


def test_sending_the_code_links_the_senders_wechat_to_the_officer(client, seeded, redis,
                                                                 make_citizen):
    code = _issue(client).get_json()["code"]
    reply = make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定 {code}")
    assert reply is not None and "张警官" in reply
    assert _openid(redis, "o1") == OFFICER_PHONE_OPENID
    assert _openid(redis, "o2") == ""
    assert "registration.officers.link" in [e["action"] for e in audit.entries(redis)]


def test_full_width_digits_without_a_space_work_too(client, seeded, redis, make_citizen):
    code = _issue(client).get_json()["code"]
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)
    make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定{wide}")
    assert _openid(redis, "o1") == OFFICER_PHONE_OPENID


def test_a_code_works_once_a_second_sender_changes_nothing(client, seeded, redis, make_citizen):
    code = _issue(client).get_json()["code"]
    make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定 {code}")
    reply = make_citizen("oSomeoneElseAAAAAAAAAAAAAAAA").send(f"警员绑定 {code}")
    assert reply is not None and "无效" in reply
    assert _openid(redis, "o1") == OFFICER_PHONE_OPENID


def test_guessing_is_cut_off_and_the_live_code_survives_the_guesses(client, seeded, redis,
                                                                    make_citizen):
    code = _issue(client).get_json()["code"]
    guesser = make_citizen("oGuesserAAAAAAAAAAAAAAAAAAAA")
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    for _ in range(officer_link.GUESSES_PER_HOUR):
        assert "无效" in (guesser.send(f"警员绑定 {wrong}") or "")
    assert "次数过多" in (guesser.send(f"警员绑定 {code}") or "")
    assert _openid(redis, "o1") == ""
    # The guesser's attempts did not spend the officer's code.
    make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定 {code}")
    assert _openid(redis, "o1") == OFFICER_PHONE_OPENID


def test_an_expired_code_links_nobody(client, seeded, redis, make_citizen):
    code = _issue(client).get_json()["code"]
    for key in redis.scan_iter("reg:olink:*"):
        redis.delete(key)  # what the TTL does after 15 minutes
    assert "无效" in (make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定 {code}") or "")
    assert _openid(redis, "o1") == ""


def test_a_code_for_an_officer_deleted_meanwhile_links_nobody(client, seeded, redis,
                                                             make_citizen):
    code = _issue(client).get_json()["code"]
    redis.hdel(keys.directory(d.OFFICERS), "o1")
    assert "无效" in (make_citizen(OFFICER_PHONE_OPENID).send(f"警员绑定 {code}") or "")
    assert d.get_officer(redis, "o1") is None


@pytest.mark.parametrize("text", ["警员绑定", "警员绑定 1234", "警员绑定 abcdefgh",
                                  "警员绑定 ١٢٣٤٥٦٧٨", "警员绑定 123456789"])
def test_the_command_without_a_valid_code_says_how_to_get_one(client, seeded, redis,
                                                             make_citizen, text):
    reply = make_citizen(OFFICER_PHONE_OPENID).send(text)
    assert reply is not None and "管理后台" in reply
    assert _openid(redis, "o1") == ""


def test_two_people_sending_one_code_at_once_link_only_one(client, seeded, redis):
    code = _issue(client).get_json()["code"]
    senders = [f"oRacer{n}AAAAAAAAAAAAAAAAAAAAAA"[:28] for n in range(8)]
    results: list[str] = []
    barrier = threading.Barrier(len(senders))

    def redeem(openid: str) -> None:
        barrier.wait()
        results.append(officer_link.redeem(redis, openid, code, time.time()).kind)

    threads = [threading.Thread(target=redeem, args=(o,)) for o in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["invalid"] * 7 + ["linked"]
    assert _openid(redis, "o1") in senders
