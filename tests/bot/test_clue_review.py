"""Staff review of clues: promote into the risk list or dismiss, roles, audit, and the cluster."""

from __future__ import annotations

import pytest

from console import audit
from intel import reports, risklist
from tests.bot.conftest import staff_client
from tests.conftest import RISK_KEY


@pytest.fixture
def duty(app):
    return staff_client(app, "duty", "duty1")


@pytest.fixture
def clue_id(phone, redis, config):
    phone.say("举报 对方冒充公安让我转安全账户 17012345678 https://www.fake-gov.top/case")
    return reports.list_clues(redis, config)[0]["id"]


def test_duty_officer_sees_pending_clues_with_their_content(duty, clue_id):
    response = duty.get("/api/v1/clues")

    assert response.status_code == 200
    [clue] = response.get_json()["clues"]
    assert clue["id"] == clue_id and "安全账户" in clue["text"]


def test_promoting_a_clue_puts_its_values_on_the_risk_list(duty, clue_id, redis):
    response = duty.post(f"/api/v1/clues/{clue_id}/review",
                         json={"decision": "promote", "fraud_type": "police"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "promoted"
    number = risklist.lookup(redis, RISK_KEY, "17012345678")
    site = risklist.lookup(redis, RISK_KEY, "fake-gov.top")
    assert number is not None and number["confirmed"] is True
    assert site is not None and site["fraud_type"] == "police"


def test_a_promoted_number_is_then_flagged_to_citizens(duty, clue_id, phone):
    duty.post(f"/api/v1/clues/{clue_id}/review", json={"decision": "promote",
                                                       "fraud_type": "police"})

    assert "冒充公检法" in phone.say("查号 170-1234-5678")


def test_staff_may_promote_only_some_of_the_values(duty, clue_id, redis):
    duty.post(f"/api/v1/clues/{clue_id}/review",
              json={"decision": "promote", "fraud_type": "police", "values": ["17012345678"]})

    assert risklist.lookup(redis, RISK_KEY, "fake-gov.top") is None


def test_values_the_clue_does_not_hold_are_refused(duty, clue_id, redis):
    response = duty.post(f"/api/v1/clues/{clue_id}/review",
                         json={"decision": "promote", "values": ["13900000000"]})

    assert response.status_code == 422
    assert risklist.lookup(redis, RISK_KEY, "13900000000") is None


def test_dismissing_leaves_the_risk_list_alone_and_empties_the_queue(duty, clue_id, redis):
    response = duty.post(f"/api/v1/clues/{clue_id}/review", json={"decision": "dismiss"})

    assert response.get_json()["status"] == "dismissed"
    assert risklist.lookup(redis, RISK_KEY, "17012345678") is None
    assert duty.get("/api/v1/clues").get_json()["clues"] == []


def test_a_clue_cannot_be_decided_twice(duty, clue_id):
    duty.post(f"/api/v1/clues/{clue_id}/review", json={"decision": "dismiss"})

    response = duty.post(f"/api/v1/clues/{clue_id}/review",
                         json={"decision": "promote", "fraud_type": "police"})

    assert response.status_code == 409


def test_an_unknown_fraud_type_is_refused(duty, clue_id):
    response = duty.post(f"/api/v1/clues/{clue_id}/review",
                         json={"decision": "promote", "fraud_type": "aliens"})

    assert response.status_code == 422


def test_review_is_audited_without_the_plain_number(duty, clue_id, redis):
    duty.post(f"/api/v1/clues/{clue_id}/review", json={"decision": "promote",
                                                       "fraud_type": "police"})

    [entry] = audit.entries(redis, action="clue.")
    assert (entry["actor"], entry["target"]) == ("duty1", f"clue:{clue_id}")
    assert "17012345678" not in repr(entry) and "170****5678" in repr(entry)


def test_propaganda_staff_may_not_review_clues(app, clue_id):
    response = staff_client(app, "propaganda").post(f"/api/v1/clues/{clue_id}/review",
                                                    json={"decision": "dismiss"})
    assert response.status_code == 403


def test_clue_api_needs_a_login(client):
    assert client.get("/api/v1/clues").status_code == 401


def test_unknown_clue_is_404(duty, redis):
    assert duty.get("/api/v1/clues/999").status_code == 404


def test_risk_record_api_shows_the_masked_entry(duty, redis):
    risklist.record_counterpart(redis, RISK_KEY, "17012345678", "police", "alert", now=1000)

    record = duty.get("/api/v1/risk", query_string={"value": "17012345678"}).get_json()

    assert (record["display"], record["count"]) == ("170****5678", 1)


def test_filing_listing_and_reviewing_clues_work_on_a_cluster(cluster_redis, config):
    report = reports.report_from_text("17012345678", lambda text: [])
    assert reports.may_report(cluster_redis, "o_c", now=1000)
    clue_id = reports.create_clue(cluster_redis, config, "o_c", report, now=1000)

    assert [c["id"] for c in reports.list_clues(cluster_redis, config)] == [clue_id]
    reports.review_clue(cluster_redis, config, clue_id, decision="promote", reviewer="d",
                        now=2000, fraud_type="police")

    assert reports.list_clues(cluster_redis, config) == []
    record = risklist.lookup(cluster_redis, RISK_KEY, "17012345678")
    assert record is not None and record["confirmed"] is True
