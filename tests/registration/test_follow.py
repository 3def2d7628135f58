"""Follows, scans and unfollows through the real webhook: attribution and counting."""

from __future__ import annotations

from registration import directory as d
from registration import stats
from registration.tags import community_tag_id
from store import keys
from tests.staff import sign_in


def _seed(redis):
    d.save_station(redis, d.Station("s1", "城东派出所"))
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1", "c1", ""))


def _totals(redis):
    return {k: int(v) for k, v in redis.hgetall(keys.registration_stats()).items()}


def test_follow_by_officer_code_is_attributed_to_officer_and_community(citizen, redis,
                                                                       followers):
    _seed(redis)
    assert "欢迎关注" in citizen.follow("o:o1")
    record = followers.get(citizen.openid)
    assert (record.subscribed, record.officer, record.community) == (True, "o1", "c1")
    assert _totals(redis)["total:registrations:o:o1"] == 1


def test_follow_by_community_code_is_attributed_to_the_community(citizen, redis, followers):
    _seed(redis)
    citizen.follow("c:c1")
    record = followers.get(citizen.openid)
    assert (record.officer, record.community) == ("", "c1")


def test_plain_follow_is_unattributed(citizen, redis, followers):
    citizen.follow()
    record = followers.get(citizen.openid)
    assert (record.officer, record.community) == ("", "")
    assert _totals(redis)["followers:none"] == 1


def test_unknown_or_hostile_scene_counts_as_unattributed(citizen, redis, followers):
    _seed(redis)
    citizen.follow("o:../../etc|x")
    assert followers.get(citizen.openid).officer == ""


def test_scan_by_an_existing_follower_is_recorded_without_double_counting(citizen, redis):
    _seed(redis)
    citizen.follow("o:o1")
    citizen.event("SCAN", "o:o1", Ticket="t")
    totals = _totals(redis)
    assert totals["total:registrations"] == 1 and totals["followers"] == 1
    assert totals["total:scans:o:o1"] == 1


def test_unfollow_stops_warnings_at_once_and_keeps_the_counts(citizen, redis, followers):
    _seed(redis)
    citizen.follow("o:o1")
    followers.bind_own_phone(citizen.openid, "13812345678")
    lookup = followers.vault.lookup_key("13812345678")
    assert followers.recipients_for_phone(lookup)
    citizen.event("unsubscribe")
    assert followers.recipients_for_phone(lookup) == []
    totals = _totals(redis)
    assert totals["followers"] == 0 and totals["total:registrations:o:o1"] == 1
    assert totals["total:unfollows"] == 1


def test_following_again_does_not_count_a_second_registration(citizen, redis):
    _seed(redis)
    citizen.follow("o:o1")
    citizen.event("unsubscribe")
    citizen.follow("o:o1")
    totals = _totals(redis)
    assert totals["total:registrations"] == 1 and totals["followers:o:o1"] == 1


def test_a_replayed_follow_counts_once(client, config, redis):
    from tests import wx

    _seed(redis)
    xml = wx.event_xml("oReplay0000000000000000000000", "subscribe", "qrscene_o:o1",
                       create_time=1_700_000_000, Ticket="t")
    for _ in range(3):
        wx.post(client, config, xml)
    assert _totals(redis)["total:registrations"] == 1


def test_follow_with_a_community_is_tagged_in_wechat_by_the_worker(live_app, redis, sbx,
                                                                    worker):
    _seed(redis)
    openid = sbx.new_citizen()
    assert "欢迎关注" in sbx.follow(openid, scene="o:o1")["content"]
    assert worker.drain() == 1
    tag_id = community_tag_id(redis, "c1")
    assert tag_id is not None
    assert tag_id in sbx.citizen(openid)["tagid_list"]


def test_scanning_an_officers_poster_code_on_a_phone_attributes_the_follow(live_app, client,
                                                                          redis, sbx,
                                                                          followers):
    from registration.qr import cached_qr

    _seed(redis)
    sign_in(client, "admin", username="admin")
    assert client.get("/api/v1/officers/o1/poster.png").status_code == 200
    qr = cached_qr(redis, "o:o1")
    assert qr is not None
    ticket = qr.ticket
    openid = sbx.new_citizen()
    sbx.follow(openid, ticket=ticket)
    assert followers.get(openid).officer == "o1"


def test_plain_follow_enqueues_no_tagging(citizen, worker):
    citizen.follow()
    assert worker.drain() == 0


def test_bound_count_follows_unfollow_and_a_number_changing_owner(make_citizen, redis, worker,
                                                                   sbx):
    from tests.registration.conftest import last_code

    _seed(redis)
    a = make_citizen("oA000000000000000000000000000")
    b = make_citizen("oB00000000000000000000000000")
    for person in (a, b):
        person.follow("o:o1")
        person.send("绑定")
        person.send("13812345678")
        worker.drain()
        person.send(last_code(sbx, "13812345678"))
        redis.delete(*redis.keys("reg:rl:resend_number:*"))
    # b proved possession last: the number moved, so only one follower counts as bound.
    assert _totals(redis)["bound"] == 1 and _totals(redis)["bound:o:o1"] == 1
    b.event("unsubscribe")
    assert _totals(redis)["bound"] == 0 and _totals(redis)["followers"] == 1


def test_stats_update_runs_on_a_redis_cluster(cluster_redis):
    from store.followers import Follower

    after = Follower("oX", True, 1, "o1", "c1", "key")
    stats.apply(cluster_redis, 1_700_000_000, stats.change(None, 0, after, 2),
                stats.event_fields("registrations", "o1", "c1"))
    assert cluster_redis.hget(keys.registration_stats(), "bound:o:o1") == "1"
    assert cluster_redis.hget(keys.registration_day("20231115"), "registrations:c:c1") == "1"
