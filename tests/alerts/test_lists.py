"""The 96110 call-back queue and the urgent cases: paged per station, newest first, none lost;
and pruned with retention. Read through the console API as an officer and the duty desk."""

from __future__ import annotations

from alerts.answers import open_urgent_case, queue_callback
from alerts.escalation import prune_lists
from alerts.store import AlertStore
from store.streams import DurableQueue
from tests.staff import sign_in
from worker.queues import WARNINGS

DAY_MS = 86400_000
BASE_MS = 1_800_000_000_000


def seed(redis, config, count: int, station: str, start_ms: int, prefix: str) -> list[str]:
    """``count`` alerts of one station, each with an urgent case and a call-back."""
    store = AlertStore(redis, 86400)
    queue = DurableQueue(redis, WARNINGS, config.queue)
    ids = []
    for i in range(count):
        alert_id = f"{prefix}{i}"
        store.create(alert_id, {"status": "warned", "stations": station,
                                "received_ms": str(start_ms + i)}, [])
        open_urgent_case(store, redis, queue, alert_id, "test", start_ms + i)
        ids.append(alert_id)
    return ids


def pages(client, path: str, limit: int = 200) -> list[list[str]]:
    out, cursor = [], ""
    while True:
        body = client.get(f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert body.status_code == 200
        data = body.get_json()
        rows = data.get("cases", data.get("callbacks"))
        out.append([r.get("alert_id") for r in rows])
        cursor = data["next_cursor"]
        if not cursor:
            return out


def test_officer_sees_their_newest_call_backs_first_behind_600_older_items_of_another_station(
        client, redis, config):
    seed(redis, config, 600, "s1", BASE_MS, "old")
    mine = seed(redis, config, 3, "s2", BASE_MS + 10_000, "new")
    sign_in(client, "officer", "s2", username="officer2")
    callbacks = client.get("/api/v1/alerts/callbacks").get_json()["callbacks"]
    assert [c["alert_id"] for c in callbacks] == mine[::-1]
    cases = client.get("/api/v1/alerts/urgent").get_json()["cases"]
    assert [c["alert_id"] for c in cases] == mine[::-1]


def test_duty_pages_through_every_open_item_newest_first_without_repeats(client, redis, config):
    first = seed(redis, config, 350, "s1", BASE_MS, "a")
    # Same milliseconds as the first batch: ties must neither repeat nor vanish across pages.
    second = seed(redis, config, 350, "s2", BASE_MS, "b")
    sign_in(client, "duty", username="desk")
    for path in ("/api/v1/alerts/callbacks", "/api/v1/alerts/urgent"):
        shown = [a for page in pages(client, path) for a in page]
        assert sorted(shown) == sorted(first + second)
        assert len(shown) == len(set(shown)) == 700
        assert shown[0] in (first[-1], second[-1])


def test_an_officer_station_list_pages_to_the_end(client, redis, config):
    seed(redis, config, 520, "s1", BASE_MS, "x")
    seed(redis, config, 40, "s2", BASE_MS, "y")
    sign_in(client, "officer", "s1", username="officer1")
    shown = [a for page in pages(client, "/api/v1/alerts/callbacks", 100) for a in page]
    assert len(shown) == 520 and all(a.startswith("x") for a in shown)


def test_bad_paging_parameters_are_refused_with_the_field_named(client, redis, config):
    sign_in(client, "duty", username="desk")
    for query in ("limit=abc", "limit=0", "limit=-1", "limit=" + "9" * 5000, "limit=５",
                  "cursor=zz", "cursor=" + "1" * 5000 + ":a"):
        response = client.get(f"/api/v1/alerts/callbacks?{query}")
        assert response.status_code == 400
        assert response.get_json()["field"] == query.partition("=")[0]


def test_a_limit_past_the_cap_is_clamped_to_one_page(client, redis, config):
    seed(redis, config, 510, "s1", BASE_MS, "c")
    sign_in(client, "duty", username="desk")
    data = client.get("/api/v1/alerts/callbacks?limit=100000").get_json()
    assert len(data["callbacks"]) == 500 and data["next_cursor"]


def test_call_backs_and_urgent_cases_older_than_retention_are_pruned(client, redis, config):
    retention_ms = config.alerts.retention_days * DAY_MS
    now_ms = BASE_MS + retention_ms + DAY_MS
    old = seed(redis, config, 5, "s1", BASE_MS, "old")
    fresh = seed(redis, config, 2, "s1", now_ms - DAY_MS, "new")
    store = AlertStore(redis, 86400)
    # A closed (answered) call-back goes too: the items hash must not grow forever.
    store.record_callback_outcome(f"{old[0]}:paid", "reached_paid", "duty", "", BASE_MS + 9)
    assert prune_lists(config, redis, now_ms / 1000) == 5
    assert store.callback(f"{old[0]}:paid") is None
    sign_in(client, "officer", "s1", username="officer1")
    callbacks = client.get("/api/v1/alerts/callbacks").get_json()["callbacks"]
    assert [c["alert_id"] for c in callbacks] == fresh[::-1]
    cases = client.get("/api/v1/alerts/urgent").get_json()["cases"]
    assert [c["alert_id"] for c in cases] == fresh[::-1]


def test_a_closed_call_back_leaves_its_station_list(client, redis, config):
    (alert_id,) = seed(redis, config, 1, "s1", BASE_MS, "c")
    store = AlertStore(redis, 86400)
    queue_callback(store, alert_id, "unanswered", store.get(alert_id), BASE_MS + 1)
    store.record_callback_outcome(f"{alert_id}:paid", "reached_paid", "duty", "", BASE_MS + 2)
    sign_in(client, "officer", "s1", username="officer1")
    callbacks = client.get("/api/v1/alerts/callbacks").get_json()["callbacks"]
    assert [c["id"] for c in callbacks] == [f"{alert_id}:unanswered"]
