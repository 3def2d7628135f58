"""我要核验: forwarded texts, numbers and links scored through the real webhook."""

from __future__ import annotations

import time

from intel import risklist
from tests.conftest import RISK_KEY

POLICE_SCRIPT = ("您好，我是市公安局民警，你的身份信息涉嫌洗钱案件，已被立案调查。"
                 "为证明清白，请把资金转入安全账户配合资金清查，此案保密不能告诉家人。")


def test_check_menu_asks_for_the_suspicious_text(phone, library):
    assert phone.click("CHECK") == library.reply("check_ask")


def test_check_word_asks_for_the_suspicious_text(phone, library):
    assert phone.say("我要核验") == library.reply("check_ask")


def test_a_scam_text_gets_its_type_reason_advice_and_article(phone, config):
    reply = phone.say(POLICE_SCRIPT)

    assert "冒充公检法" in reply
    assert "安全账户" in reply
    assert "公检法不会电话办案" in reply
    assert f"{config.service.public_url}/articles/police-" in reply


def test_check_command_scores_the_text_after_it(phone):
    assert "冒充公检法" in phone.say("核验：" + POLICE_SCRIPT)


def test_an_ordinary_message_says_no_known_pattern_and_how_to_verify(phone, library):
    assert phone.say("周末一起去爬山吗？我带水果。") == library.reply("check_clean")


def test_a_number_on_the_risk_list_flags_the_text_it_is_in(phone, redis):
    risklist.record_counterpart(redis, RISK_KEY,
                                "17012345678", "investment", "alert", now=time.time())

    reply = phone.say("刚才有个人加我说带我赚钱，电话17012345678")

    assert "170****5678" in reply
    assert "17012345678" not in reply


def test_a_forwarded_bare_number_on_the_list_gets_its_risk_record(phone, redis):
    risklist.record_counterpart(redis, RISK_KEY, "17012345678", "police", "alert", now=time.time())
    risklist.record_counterpart(redis, RISK_KEY, "17012345678", "police", "alert", now=time.time())

    reply = phone.say("170 1234 5678")

    assert "2 次" in reply and "冒充公检法" in reply


def test_a_forwarded_unknown_number_says_no_record_and_how_to_verify(phone, library):
    assert phone.say("13912345678") == library.reply("lookup_miss", value="139****5678")


def test_a_forwarded_lookalike_link_is_flagged_although_not_listed(phone):
    reply = phone.say("http://etc-gov-cn.top/renew")

    assert "高度疑似诈骗" in reply


def test_a_scam_fragment_without_keywords_gets_a_warning_not_the_clean_reply(phone, library):
    reply = phone.say("给抖音视频点个赞就有2元，做完截图领钱")

    assert reply != library.reply("check_clean")
    assert "刷单" in reply and "96110" in reply


def test_the_clean_reply_says_how_to_verify_and_offers_96110(phone, library):
    reply = phone.say("下午三点开会，记得带电脑")

    assert reply == library.reply("check_clean")
    assert "96110" in reply
