"""查号: risk look-up by command, by menu then value, with masked numbers in every answer."""

from __future__ import annotations

from bot.dialogs import current_dialog
from intel import risklist
from tests.conftest import RISK_KEY


class Ctx:
    def __init__(self, redis):
        self.redis = redis


def test_lookup_command_reports_count_last_seen_and_type(phone, redis):
    risklist.record_counterpart(redis, RISK_KEY,
                                "400-123-4567", "ecommerce_cs", "alert", now=1_700_000_000)

    reply = phone.say("查号 4001234567")

    assert "1 次" in reply
    assert "2023-11-15 06:13" in reply  # Beijing time
    assert "冒充电商物流客服" in reply


def test_lookup_of_an_unlisted_link_says_no_record(phone, library):
    assert phone.say("查号 https://example.org/a") == library.reply("lookup_miss",
                                                                    value="example.org")


def test_lookup_of_something_that_is_no_number_or_link_explains_the_format(phone, library):
    assert phone.say("查号 张三") == library.reply("lookup_invalid")


def test_lookup_menu_asks_and_the_next_message_is_looked_up(phone, redis):
    risklist.record_counterpart(redis, RISK_KEY,
                                "fake-bank.top", "phishing_link", "alert", now=1_700_000_000)

    phone.click("LOOKUP")
    reply = phone.say("www.fake-bank.top")

    assert "fake-bank.top" in reply and "仿冒ETC" in reply
    assert current_dialog(Ctx(redis), phone.openid) is None


def test_lookup_word_alone_opens_the_dialog(phone, redis, library):
    assert phone.say("查号") == library.reply("lookup_ask")
    assert current_dialog(Ctx(redis), phone.openid) == "lookup"


def test_a_full_lookup_command_closes_the_open_lookup_dialog(phone, redis, library):
    # "查号" alone, then "查号 <number>" in full: the answer is given, so the next forwarded
    # text must reach the scam check, not be read as one more value to look up.
    phone.say("查号")
    phone.say("查号 170 1234 5678")

    assert current_dialog(Ctx(redis), phone.openid) is None
    assert phone.say("【ETC服务】您的ETC已失效，请点击 http://etc-gov.cn.xyz 重新认证") \
        != library.reply("lookup_invalid")


def test_a_lookup_command_leaves_another_open_dialog_alone(phone, redis):
    phone.say("绑定")
    phone.say("查号 170 1234 5678")

    assert current_dialog(Ctx(redis), phone.openid) == "bind"
