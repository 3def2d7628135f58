"""Staff APIs: roles, station scope, validation messages, audit, statistics figures."""

from __future__ import annotations

import pytest

from registration import directory as d
from store import keys
from tests.staff import sign_in


def _login(client, role, station=""):
    return sign_in(client, role, station, username=f"u-{role}")


@pytest.fixture
def seeded(redis):
    for sid, name in (("s1", "城东派出所"), ("s2", "城西派出所")):
        d.save_station(redis, d.Station(sid, name))
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    d.save_community(redis, d.Community("c2", "和平村", "s2"))
    d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1", "c1"))
    d.save_officer(redis, d.Officer("o2", "李警官", "010002", "s2", "c2"))


def test_without_a_session_the_stats_api_answers_401(client):
    assert client.get("/api/v1/registration/stats").status_code == 401


def test_admin_creates_station_community_and_officer_and_each_is_audited(client, redis):
    _login(client, "admin")
    response = client.post("/api/v1/stations", json={"id": "s9", "name": "城南派出所"})
    assert response.status_code == 201
    assert client.post("/api/v1/communities",
                       json={"name": "光明社区", "station_id": "s9"}).status_code == 201
    response = client.post("/api/v1/officers", json={"name": "王警官", "badge_no": "9",
                                                     "station_id": "s9"})
    assert response.status_code == 201
    actions = [fields["action"] for _, fields in redis.xrange(keys.audit_log())]
    assert actions == ["registration.station.create", "registration.communities.create",
                       "registration.officers.create"]


def test_invalid_input_is_refused_with_the_field_named(client, seeded):
    _login(client, "admin")
    response = client.post("/api/v1/officers", json={"name": "王警官", "badge_no": "9",
                                                     "station_id": "s1", "community_id": "c2"})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("community_id:")
    assert client.post("/api/v1/officers", json={"rank": 1}).get_json()["error"] == \
        "rank: unknown field"


def test_an_officer_cannot_create_records_in_another_station(client, seeded):
    _login(client, "officer", "s1")
    response = client.post("/api/v1/communities", json={"name": "x", "station_id": "s2"})
    assert response.status_code == 403


def test_an_officers_new_community_lands_in_their_station(client, seeded, redis):
    _login(client, "officer", "s1")
    created = client.post("/api/v1/communities", json={"name": "新村"}).get_json()
    community = d.get_community(redis, created["id"])
    assert community is not None and community.station_id == "s1"


def test_an_officer_lists_only_their_stations_officers(client, seeded):
    _login(client, "officer", "s1")
    assert [o["id"] for o in client.get("/api/v1/officers").get_json()["officers"]] == ["o1"]
    assert client.get("/api/v1/officers?station=s2").status_code == 403


def test_an_officer_cannot_fetch_another_stations_posters(client, seeded):
    _login(client, "officer", "s1")
    assert client.get("/api/v1/officers/o2/poster.png").status_code == 403
    assert client.get("/api/v1/stations/s2/posters.zip").status_code == 403


def test_propaganda_staff_cannot_edit_officers(client, seeded):
    _login(client, "propaganda")
    assert client.put("/api/v1/officers/o1", json={"name": "x"}).status_code == 403


def test_editing_an_officer_keeps_unchanged_fields(client, seeded, redis):
    _login(client, "admin")
    client.put("/api/v1/officers/o1", json={"openid": "oOfficerOne00000000000000000"})
    officer = d.get_officer(redis, "o1")
    assert officer is not None
    assert (officer.openid, officer.badge_no) == ("oOfficerOne00000000000000000", "010001")


def test_stats_count_registrations_bound_rate_and_guardians_per_area(client, seeded,
                                                                      make_citizen, worker, sbx):
    from tests.registration.conftest import last_code

    a, b, c = (make_citizen(f"oStat{i}00000000000000000000000") for i in range(3))
    a.follow("o:o1")
    b.follow("c:c1")
    c.follow()
    a.send("绑定")
    a.send("13812345678")
    b.send("守护")
    b.send("13900001111")
    b.send("妈妈")
    worker.drain()
    a.send(last_code(sbx, "13812345678"))
    b.send(last_code(sbx, "13900001111"))
    _login(client, "admin")
    report = client.get("/api/v1/registration/stats?days=7").get_json()
    s1 = next(s for s in report["stations"] if s["id"] == "s1")
    assert (s1["followers"], s1["bound"], s1["guardians"], s1["registrations"]) == (2, 1, 1, 2)
    assert s1["bound_rate"] == 0.5
    o1 = next(o for o in report["officers"] if o["id"] == "o1")
    assert (o1["followers"], o1["bound"]) == (1, 1)
    assert report["totals"]["unattributed"]["followers"] == 1
    assert report["totals"]["followers"] == 3
    assert len(report["days"]) == 7 and report["days"][-1]["registrations"] == 3
    assert report["days"][-1]["binds"] == 1 and report["days"][-1]["guards"] == 1


def test_an_officer_gets_only_their_stations_stats(client, seeded, make_citizen):
    make_citizen("oStatX000000000000000000000").follow("o:o2")
    _login(client, "officer", "s1")
    report = client.get("/api/v1/registration/stats").get_json()
    assert [s["id"] for s in report["stations"]] == ["s1"]
    assert "totals" not in report
    assert report["days"][-1]["registrations"] == 0
    assert client.get("/api/v1/registration/stats?station=s2").status_code == 403
