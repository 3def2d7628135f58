"""举报: texts, numbers, links and screenshots become clues with a receipt, through the webhook."""

from __future__ import annotations

import json

from bot.dialogs import current_dialog
from intel import reports
from store.streams import DurableQueue
from worker.queues import SCREENSHOTS


class Ctx:
    def __init__(self, redis):
        self.redis = redis


def only_clue(redis, config):
    clues = reports.list_clues(redis, config, status="all")
    assert len(clues) == 1
    return clues[0]


def test_report_with_a_number_files_a_clue_and_answers_with_its_id(phone, redis, config, library):
    reply = phone.say("举报 17012345678")

    clue = only_clue(redis, config)
    assert reply == library.reply("report_receipt", clue_id=clue["id"])
    assert (clue["kind"], clue["values"], clue["status"]) == ("number", ["17012345678"], "pending")


def test_reported_text_keeps_its_numbers_and_links_as_candidates(phone, redis, config):
    phone.say("举报：对方说刷单返佣，让我下载 http://t.cn/A6xYz 联系客服 13812345678")

    clue = only_clue(redis, config)
    assert clue["kind"] == "text"
    assert set(clue["values"]) == {"13812345678", "http://t.cn/A6xYz"}
    assert clue["suggested_type"] == "shuadan"


def test_clue_contents_are_not_stored_in_plain_text(phone, redis):
    phone.say("举报 17012345678")

    dump = repr([(k, redis.type(k) == "hash" and redis.hgetall(k)) for k in redis.keys("clue:*")])
    assert "17012345678" not in dump


def test_report_menu_opens_a_dialog_whose_next_message_is_the_clue(phone, redis, config, library):
    assert phone.click("REPORT") == library.reply("report_ask")

    phone.say("有人冒充快递客服说要理赔")

    assert only_clue(redis, config)["text"] == "有人冒充快递客服说要理赔"
    assert current_dialog(Ctx(redis), phone.openid) is None


def test_report_word_alone_asks_for_the_clue(phone, redis, library):
    assert phone.say("我要举报") == library.reply("report_ask")
    assert current_dialog(Ctx(redis), phone.openid) == "report"


def test_a_full_report_command_closes_the_open_report_dialog(phone, redis, config):
    # "举报" then "举报 <clue>": one clue filed, and the next forwarded text is checked,
    # not filed as a second clue.
    phone.say("举报")
    phone.say("举报 17012345678")
    phone.say("妈，我换新号码了，急用钱先借我2000")

    assert only_clue(redis, config)["values"] == ["17012345678"]
    assert current_dialog(Ctx(redis), phone.openid) is None


def test_a_screenshot_in_the_report_dialog_becomes_an_image_clue_and_is_queued_for_reading(
        phone, redis, config, library):
    phone.click("REPORT")

    reply = phone.send_image("http://mmbiz.qpic.cn/shot.jpg", "media-123")

    clue = only_clue(redis, config)
    assert reply == library.reply("report_receipt", clue_id=clue["id"])
    assert (clue["kind"], clue["pic_url"], clue["media_id"]) == (
        "image", "http://mmbiz.qpic.cn/shot.jpg", "media-123")
    (job,) = _queued(redis)
    assert job["payload"]["clue_id"] == clue["id"]


def test_a_screenshot_sent_on_its_own_is_checked_not_filed(phone, redis, config, library):
    reply = phone.send_image("http://mmbiz.qpic.cn/other.jpg", "media-9")

    assert reply == library.reply("screenshot_reading")
    assert reports.list_clues(redis, config, status="all") == []
    (job,) = _queued(redis)
    assert job["payload"]["media_id"] == "media-9" and "clue_id" not in job["payload"]


def _queued(redis):
    return [{**fields, "payload": json.loads(fields["payload"])}
            for _, fields in redis.xrange(DurableQueue(redis, SCREENSHOTS).stream)]


def test_reports_past_the_daily_limit_are_refused(phone, redis, config, library):
    for n in range(reports.MAX_REPORTS_PER_DAY):
        phone.say(f"举报 1381234{n:04d}")

    reply = phone.say("举报 13900000000")

    assert reply == library.reply("report_limit", limit=reports.MAX_REPORTS_PER_DAY)
    assert len(reports.list_clues(redis, config, status="all", limit=100)) == \
        reports.MAX_REPORTS_PER_DAY
