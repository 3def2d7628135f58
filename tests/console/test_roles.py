"""Role isolation: each role is refused every page and API it must not see.

Every row's route must exist: a renamed or removed route fails here (it is not skipped), and
every answer is checked for its exact status, so a 500 never passes for "not refused".
"""

from __future__ import annotations

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

ROLES = ("duty", "officer", "propaganda")

# (method, path, roles besides admin that may use it)
ENDPOINTS = [
    ("GET", "/console/dashboard", ("duty", "officer", "propaganda")),
    ("GET", "/console/accounts", ()),
    ("POST", "/console/accounts", ()),
    ("POST", "/console/accounts/someone/delete", ()),
    ("GET", "/console/audit", ()),
    ("GET", "/console/dead-letters", ("duty",)),
    ("POST", "/console/dead-letters/warnings/1-0/retry", ("duty",)),
    ("GET", "/console/alerts", ("duty", "officer")),
    ("GET", "/console/callbacks", ("duty", "officer")),
    ("GET", "/console/stations", ("duty", "officer", "propaganda")),
    ("GET", "/console/content", ("propaganda",)),
    ("GET", "/console/broadcasts", ("propaganda",)),
    ("GET", "/console/clues", ("duty",)),
    ("GET", "/api/v1/accounts", ()),
    ("POST", "/api/v1/accounts", ()),
    ("DELETE", "/api/v1/accounts/someone", ()),
    ("GET", "/api/v1/audit", ()),
    ("GET", "/api/v1/dashboard", ("duty", "officer", "propaganda")),
    ("GET", "/api/v1/dead-letters", ("duty",)),
    ("POST", "/api/v1/dead-letters/warnings/1-0/retry", ("duty",)),
    ("GET", "/api/v1/clues", ("duty",)),
    ("GET", "/api/v1/clues/1", ("duty",)),
    ("POST", "/api/v1/clues/1/review", ("duty",)),
    ("GET", "/api/v1/risk", ("duty",)),
    ("GET", "/api/v1/content/article", ("propaganda",)),
    ("POST", "/api/v1/content/article", ("propaganda",)),
    ("PUT", "/api/v1/content/article/x", ("propaganda",)),
    ("GET", "/api/v1/content/article/x/history", ("propaganda",)),
    ("POST", "/api/v1/menu", ()),
    # alerts (api/alerts.py)
    ("GET", "/api/v1/alerts", ("duty", "officer")),
    ("GET", "/api/v1/alerts/a1", ("duty", "officer")),
    ("GET", "/api/v1/alerts/a1/timeline", ("duty", "officer")),
    ("POST", "/api/v1/alerts/a1/checklist", ("duty", "officer")),
    ("POST", "/api/v1/alerts/a1/close", ("duty", "officer")),
    ("GET", "/api/v1/alerts/urgent", ("duty", "officer")),
    ("GET", "/api/v1/alerts/callbacks", ("duty", "officer")),
    ("POST", "/api/v1/alerts/callbacks/a1:paid/outcome", ("duty", "officer")),
    ("POST", "/api/v1/alerts/callbacks/a1:paid/reveal", ("duty", "officer")),
    ("GET", "/api/v1/alerts/dead-letters", ("duty",)),
    ("POST", "/api/v1/alerts/dead-letters/1-0/retry", ("duty",)),
    ("GET", "/api/v1/alerts/unregistered", ("duty",)),
    ("GET", "/api/v1/alerts/stats", ("duty",)),
    # broadcasts (api/broadcasts.py)
    ("GET", "/api/v1/broadcasts", ("propaganda",)),
    ("POST", "/api/v1/broadcasts", ("propaganda",)),
    ("GET", "/api/v1/broadcasts/b1", ("propaganda",)),
    ("PUT", "/api/v1/broadcasts/b1", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/pause", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/resume", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/cancel", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/preview", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/run", ("propaganda",)),
    ("POST", "/api/v1/broadcasts/b1/check", ("propaganda",)),
    ("GET", "/api/v1/broadcasts/b1/runs", ("propaganda",)),
    ("GET", "/api/v1/broadcast-runs/r1", ("propaganda",)),
    # registration (api/registration.py): duty and propaganda read, officers manage their own
    ("GET", "/api/v1/stations", ("duty", "officer", "propaganda")),
    ("POST", "/api/v1/stations", ()),
    ("PUT", "/api/v1/stations/s1", ()),
    ("POST", "/api/v1/communities", ("officer",)),
    ("PUT", "/api/v1/communities/c1", ("officer",)),
    ("POST", "/api/v1/officers", ("officer",)),
    ("PUT", "/api/v1/officers/o1", ("officer",)),
    ("POST", "/api/v1/officers/o1/link-code", ("officer",)),
    ("GET", "/api/v1/registration/stats", ("duty", "officer", "propaganda")),
]

REFUSALS = [(method, path, role) for method, path, allowed in ENDPOINTS
            for role in ROLES if role not in allowed]

# What an allowed role gets from a GET when the row names an object nobody created: the view ran
# and looked it up. Everything else answers 200.
MISSING_OBJECT = {"/api/v1/clues/1", "/api/v1/risk", "/api/v1/alerts/a1",
                  "/api/v1/alerts/a1/timeline", "/api/v1/broadcasts/b1",
                  "/api/v1/broadcasts/b1/runs", "/api/v1/broadcast-runs/r1"}


def _allowed_get_status(path: str, role: str) -> int:
    if path in MISSING_OBJECT:
        return 404
    if path == "/api/v1/registration/stats" and role == "officer":
        return 404  # the officer's station s1 is not in the directory
    return 200


def _require_route(app, method: str, path: str) -> None:
    try:
        app.url_map.bind("localhost").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        pytest.fail(f"{method} {path} is listed but not routed: renamed or removed?")


@pytest.mark.parametrize("method,path", [(m, p) for m, p, _ in ENDPOINTS])
def test_every_listed_route_exists(app, method, path):
    _require_route(app, method, path)


@pytest.mark.parametrize("method,path,role", REFUSALS)
def test_role_is_refused_what_it_must_not_see(app, login_as, method, path, role):
    _require_route(app, method, path)
    client = login_as(role, station="s1" if role == "officer" else "")
    response = client.open(path, method=method, json={})
    assert response.status_code == 403, f"{role} got {response.status_code} for {method} {path}"


@pytest.mark.parametrize("method,path", [(m, p) for m, p, _ in ENDPOINTS])
def test_anonymous_request_is_refused_everywhere(app, client, method, path):
    _require_route(app, method, path)
    response = client.open(path, method=method, json={})
    if path.startswith("/console/"):
        # Pages redirect to the login; console form posts fail the CSRF check first.
        assert response.status_code == (302 if method == "GET" else 400)
    else:
        assert response.status_code == 401


@pytest.mark.parametrize("path,role", [(p, r) for m, p, allowed in ENDPOINTS if m == "GET"
                                       for r in ("admin", *allowed)])
def test_allowed_role_gets_past_the_role_check(app, login_as, path, role):
    _require_route(app, "GET", path)
    response = login_as(role, station="s1" if role == "officer" else "").get(path)
    assert response.status_code == _allowed_get_status(path, role), response.get_data(as_text=True)


def test_officer_account_without_a_station_is_refused_everywhere(login_as):
    assert login_as("officer", station="").get("/console/dashboard").status_code == 403


def test_admin_cannot_create_an_officer_without_a_station(login_as, redis):
    response = login_as("admin").post("/api/v1/accounts", json={
        "username": "cop", "password": "long enough password", "role": "officer"})
    assert response.status_code == 422
    assert not redis.exists("staff:{staff}:user:cop")
