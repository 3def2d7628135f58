"""The staff broadcasts API: create, edit, schedule, pause/resume/cancel, runs, roles, audit."""

from __future__ import annotations

import time
from typing import Any

from broadcasts.model import month_key
from console import audit
from registration import directory
from store import keys
from store.followers import Follower
from tests.staff import sign_in

BODY = {"title": "周一反诈课堂", "articles": ["shuadan-basics"], "audience": {"kind": "all"},
        "schedule": {"kind": "cron", "cron": "0 9 * * 1", "start": "2030-01-01T00:00"}}


def _create(client: Any, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/broadcasts", json={**BODY, **changes})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def test_propaganda_staff_create_a_recurring_broadcast_with_next_run_times(login_as) -> None:
    created = _create(login_as("propaganda"))
    assert created["status"] == "active" and created["state"] == "active"
    assert created["next_runs"][:2] == ["2030-01-07T09:00:00+08:00", "2030-01-14T09:00:00+08:00"]


def test_other_roles_may_not_manage_broadcasts(login_as) -> None:
    client = login_as("duty")
    assert client.post("/api/v1/broadcasts", json=BODY).status_code == 403
    assert client.get("/api/v1/broadcasts").status_code == 403


def test_unknown_article_is_refused_with_a_reason(login_as) -> None:
    response = login_as("propaganda").post("/api/v1/broadcasts",
                                           json={**BODY, "articles": ["no-such"]})
    assert response.status_code == 400 and "no-such" in response.get_json()["errors"][0]


def test_unknown_community_in_the_audience_is_refused(login_as) -> None:
    response = login_as("propaganda").post(
        "/api/v1/broadcasts", json={**BODY, "audience": {"kind": "communities", "ids": ["x1"]}})
    assert response.status_code == 400 and "x1" in response.get_json()["errors"][0]


def test_known_station_audience_is_accepted(login_as, redis) -> None:
    directory.save_station(redis, directory.Station("s1", "城东派出所"))
    created = _create(login_as("propaganda"), audience={"kind": "stations", "ids": ["s1"]})
    assert created["audience"] == {"kind": "stations", "ids": ["s1"]}


def test_pause_resume_and_cancel_change_the_state_and_are_audited(login_as, redis) -> None:
    client = login_as("propaganda")
    broadcast_id = _create(client)["id"]
    paused = client.post(f"/api/v1/broadcasts/{broadcast_id}/pause").get_json()
    assert paused["status"] == "paused" and paused["next_runs"] == []
    assert client.post(f"/api/v1/broadcasts/{broadcast_id}/resume").get_json()["status"] == "active"
    cancelled = client.post(f"/api/v1/broadcasts/{broadcast_id}/cancel").get_json()
    assert cancelled["status"] == "cancelled"
    assert client.post(f"/api/v1/broadcasts/{broadcast_id}/resume").status_code == 409
    actions = [e["action"] for e in audit.entries(redis, action="broadcast.")]
    assert actions == ["broadcast.cancel", "broadcast.resume", "broadcast.pause",
                       "broadcast.create"]


def test_edit_bumps_the_revision_the_scheduler_applies(login_as, redis) -> None:
    client = login_as("propaganda")
    created = _create(client)
    edited = client.put(f"/api/v1/broadcasts/{created['id']}",
                        json={**BODY, "schedule": {"kind": "once", "at": "2031-05-01T10:00"}})
    body = edited.get_json()
    assert body["rev"] == created["rev"] + 1 and body["synced"] is False
    assert body["next_runs"] == ["2031-05-01T10:00:00+08:00"]


def test_run_now_creates_a_queued_run_listed_with_its_report(login_as, redis) -> None:
    client = login_as("propaganda")
    broadcast_id = _create(client)["id"]
    response = client.post(f"/api/v1/broadcasts/{broadcast_id}/run")
    assert response.status_code == 202
    run_id = response.get_json()["run_id"]
    [run] = client.get(f"/api/v1/broadcasts/{broadcast_id}/runs").get_json()["runs"]
    assert run["run_id"] == run_id and run["status"] == "queued"
    report = client.get(f"/api/v1/broadcast-runs/{run_id}").get_json()
    assert report["batches"] == [] and report["trigger"] == "manual"


def test_check_reports_followers_over_the_allowance(login_as, redis) -> None:
    for openid in ("oAAAAAAAAAAAAA1", "oAAAAAAAAAAAAA2"):
        redis.hset(keys.follower_records(openid), openid,
                   Follower(openid, True, 0, "", "", "").pack())
    redis.hset(keys.mass_quota("oAAAAAAAAAAAAA1", month_key(time.time())), "oAAAAAAAAAAAAA1", 4)
    client = login_as("propaganda")
    broadcast_id = _create(client)["id"]
    checked = client.post(f"/api/v1/broadcasts/{broadcast_id}/check").get_json()
    assert (checked["audience"], checked["over_allowance"]) == (2, 1)
    assert "1 of 2 followers" in checked["refusal"]


def test_unknown_broadcast_is_404(login_as) -> None:
    assert login_as("admin").get("/api/v1/broadcasts/nope").status_code == 404
    assert login_as("admin").get("/api/v1/broadcast-runs/nope").status_code == 404


def test_preview_goes_to_the_staff_members_own_openid(bc_env) -> None:
    from app import create_app

    [staff_openid] = bc_env.followers(1)
    client = create_app(bc_env.config, bc_env.redis).test_client()
    sign_in(client, "propaganda", username="p1")
    broadcast_id = client.post("/api/v1/broadcasts", json=BODY).get_json()["id"]
    response = client.post(f"/api/v1/broadcasts/{broadcast_id}/preview",
                           json={"openid": staff_openid})
    assert response.status_code == 200
    [message] = bc_env.sandbox.messages(staff_openid, kind="mass")
    assert message["payload"]["preview"] is True
    assert message["payload"]["text"]["content"].startswith("【")
