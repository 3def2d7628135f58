"""Stations, communities and officers: validation with clear messages, cluster-safe saves."""

from __future__ import annotations

import pytest

from registration import directory as d


@pytest.fixture
def station(redis):
    return d.save_station(redis, d.Station("s1", "城东派出所"))


def test_saved_officer_reads_back_with_its_openid(redis, station):
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    officer = d.Officer("o1", "张警官", "010001", "s1", "c1", "oOfficer000000000000000000000")
    d.save_officer(redis, officer)
    assert d.get_officer(redis, "o1") == officer


def test_community_of_a_missing_station_is_refused_naming_the_field(redis):
    with pytest.raises(d.DirectoryError, match="station_id: station 'nope' does not exist"):
        d.save_community(redis, d.Community("c1", "幸福社区", "nope"))


def test_officer_in_another_stations_community_is_refused(redis, station):
    d.save_station(redis, d.Station("s2", "城西派出所"))
    d.save_community(redis, d.Community("c2", "和平村", "s2"))
    with pytest.raises(d.DirectoryError, match="belongs to station 's2', not 's1'"):
        d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1", "c2"))


def test_a_badge_number_belongs_to_one_officer(redis, station):
    d.save_officer(redis, d.Officer("o1", "张警官", "010001", "s1"))
    with pytest.raises(d.DirectoryError, match="badge_no"):
        d.save_officer(redis, d.Officer("o2", "李警官", "010001", "s1"))


@pytest.mark.parametrize("bad", ["", "x" * 13, "o:1", "a b", "中文"])
def test_ids_that_would_break_scene_strings_are_refused(redis, bad):
    with pytest.raises(d.DirectoryError, match="id"):
        d.save_station(redis, d.Station(bad, "城东派出所"))


def test_names_with_separator_characters_are_refused(redis):
    with pytest.raises(d.DirectoryError, match="name"):
        d.save_station(redis, d.Station("s1", "城东|派出所"))


def test_a_community_cannot_move_to_another_station(redis, station):
    d.save_station(redis, d.Station("s2", "城西派出所"))
    d.save_community(redis, d.Community("c1", "幸福社区", "s1"))
    with pytest.raises(d.DirectoryError, match="cannot move"):
        d.save_community(redis, d.Community("c1", "幸福社区", "s2"))


def test_lists_filter_by_station(redis, station):
    d.save_station(redis, d.Station("s2", "城西派出所"))
    d.save_officer(redis, d.Officer("o1", "张警官", "1", "s1"))
    d.save_officer(redis, d.Officer("o2", "李警官", "2", "s2"))
    assert [o.id for o in d.list_officers(redis, "s2")] == ["o2"]
    assert [o.id for o in d.list_officers(redis)] == ["o1", "o2"]


def test_generated_ids_skip_ids_staff_already_used(redis, station):
    d.save_station(redis, d.Station("1", "城北派出所"))
    assert d.new_id(redis, d.STATIONS) == "2"


def test_directory_saves_run_on_a_redis_cluster(cluster_redis):
    d.save_station(cluster_redis, d.Station("s1", "城东派出所"))
    d.save_community(cluster_redis, d.Community("c1", "幸福社区", "s1"))
    d.save_officer(cluster_redis, d.Officer("o1", "张警官", "010001", "s1", "c1"))
    officer = d.get_officer(cluster_redis, "o1")
    assert officer is not None and officer.community_id == "c1"
