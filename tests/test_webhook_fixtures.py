"""Real WeChat payloads (tests/fixtures/wechat, sources in its manifest.toml) through /wechat.

Every fixture is posted signed, as WeChat posts it in each encryption mode: plaintext (plain),
plaintext fields beside ``<Encrypt>`` (compat) and ``<Encrypt>`` only (safe), encrypted with
wechatpy's crypto. Our own XML builders share our blind spots; these files do not.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from broadcasts import store as broadcasts
from content.library import load_library
from tests import wx
from tests.conftest import make_config

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
MANIFEST = tomllib.loads((FIXTURES / "manifest.toml").read_text("utf-8"))
MODES = ("plain", "compat", "safe")


def fixture_xml(name: str) -> str:
    return (FIXTURES / f"{name}.xml").read_text("utf-8")


def _cdata(tag: str, xml: str) -> str:
    """The word inside ``<tag><![CDATA[...]]>``; the fixture must have it."""
    found = re.search(rf"<{tag}><!\[CDATA\[(\w+)\]\]>", xml)
    assert found is not None, (tag, xml)
    return found.group(1)


@pytest.fixture(params=MODES)
def mode_client(request, redis, redis_url):
    """(config, client) of an app in each of WeChat's three encryption modes."""
    from app import create_app

    config = make_config(redis_url, wechat={"encrypt_mode": request.param})
    return config, create_app(config, redis).test_client()


def test_every_fixture_file_is_in_the_manifest_with_its_source() -> None:
    files = {path.stem for path in FIXTURES.glob("*.xml")}
    assert files == set(MANIFEST)
    for name, entry in MANIFEST.items():
        assert "@" in entry["source"] or entry["source"].startswith("https://"), name
        assert entry["expect"] in ("reply", "success"), name


def test_the_corpus_covers_every_message_and_event_type_we_handle() -> None:
    events = {"subscribe", "unsubscribe", "scan", "location", "click", "view", "scancode_push",
              "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
              "location_select", "templatesendjobfinish", "masssendjobfinish",
              "subscribe_msg_popup_event"}
    messages = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
    seen_events = {_cdata("Event", fixture_xml(n)).lower()
                   for n in MANIFEST if "<Event>" in fixture_xml(n)}
    seen_types = {_cdata("MsgType", fixture_xml(n)) for n in MANIFEST}
    assert events <= seen_events
    assert messages <= seen_types
    assert any("qrscene_" in fixture_xml(n) for n in MANIFEST)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_real_payload_is_answered_in_every_mode(mode_client, name):
    config, client = mode_client
    response = wx.post(client, config, fixture_xml(name))
    assert response.status_code == 200
    if MANIFEST[name]["expect"] == "reply":
        assert wx.reply_text(config, response)
    else:
        assert response.get_data(as_text=True) == "success"


def test_real_masssendjobfinish_adds_its_totals_to_the_broadcast_run(client, config, redis) -> None:
    broadcasts.create_run(redis, "r1", "b1", 0, 0)
    broadcasts.confirm_batch(redis, "r1", 0, (1, 0), 1000000003, 4, False)
    response = wx.post(client, config, fixture_xml("event_masssendjobfinish_community_capture"))
    assert response.status_code == 200
    run = broadcasts.get_run(redis, "r1") or {}
    assert (run["total_count"], run["filter_count"], run["sent_count"], run["error_count"],
            run["finish_events"]) == (4, 4, 4, 0, 1)


def test_masssendjobfinish_with_copyright_results_records_its_status(client, config,
                                                                    redis) -> None:
    broadcasts.create_run(redis, "r2", "b1", 0, 0)
    broadcasts.confirm_batch(redis, "r2", 0, (1, 0), 1000001625, 2, False)
    assert wx.post(client, config, fixture_xml("event_masssendjobfinish")).status_code == 200
    results = broadcasts.run_results(redis, "r2")
    assert results["1000001625"]["status"] == "err(30003)"


@pytest.mark.parametrize("name", ["event_subscribe", "event_subscribe_qrscene", "event_scan"])
def test_real_follow_and_scan_events_get_the_welcome(client, config, name):
    response = wx.post(client, config, fixture_xml(name))
    assert wx.reply_text(config, response) == load_library().reply("welcome")


def test_a_real_payload_retried_by_wechat_gets_the_first_answer(client, config, redis) -> None:
    query = wx.signed_query(config)
    first = wx.post(client, config, fixture_xml("text"), query=query)
    again = wx.post(client, config, fixture_xml("text"), query=query)
    assert again.status_code == 200
    assert wx.reply_text(config, again) == wx.reply_text(config, first)
