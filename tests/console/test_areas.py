"""Area isolation: an officer sees and changes only their own station's records."""

from __future__ import annotations

import time

import pytest

from registration import directory as d


@pytest.fixture
def two_stations(redis):
    for sid in ("s1", "s2"):
        d.save_station(redis, d.Station(sid, f"{sid}派出所"))
        d.save_community(redis, d.Community(f"c{sid[1]}", f"{sid}社区", sid))
        d.save_officer(redis, d.Officer(f"o{sid[1]}", f"{sid}民警", f"B{sid}", sid, f"c{sid[1]}"))


def test_officer_dashboard_shows_only_their_own_station(login_as, two_stations):
    data = login_as("officer", station="s1").get("/api/v1/dashboard").get_json()
    assert [s["id"] for s in data["areas"]["stations"]] == ["s1"]
    assert [c["id"] for c in data["areas"]["communities"]] == ["c1"]
    assert "funnel" not in data


@pytest.mark.parametrize("path", [
    "/api/v1/stations/s2/posters.zip",
    "/api/v1/communities/c2/poster.svg",
    "/api/v1/officers/o2/poster.png",
    "/api/v1/registration/stats?station=s2",
    "/api/v1/communities?station=s2",
])
def test_officer_is_refused_another_stations_records(login_as, two_stations, path):
    assert login_as("officer", station="s1").get(path).status_code == 403


def test_officer_cannot_edit_another_stations_community(login_as, two_stations, redis):
    response = login_as("officer", station="s1").put("/api/v1/communities/c2", json={"name": "改"})
    assert response.status_code == 403
    community = d.get_community(redis, "c2")
    assert community is not None and community.name == "s2社区"


def test_officer_is_refused_another_stations_alert(app, login_as, redis, config):
    assert "alerts_api.alert_detail" in app.view_functions, "alerts API not routed"
    from alerts.store import AlertStore

    store = AlertStore(redis, 86400)
    now_ms = int(time.time() * 1000)
    store.create("a2", {"status": "sent", "stations": "s2", "received_ms": now_ms},
                 [{"event": "received", "actor": "platform", "at_ms": now_ms}])
    client = login_as("officer", station="s1")
    assert client.get("/api/v1/alerts/a2").status_code == 403
    assert client.get("/api/v1/alerts/a2/timeline").status_code == 403
    assert login_as("duty").get("/api/v1/alerts/a2").status_code == 200
