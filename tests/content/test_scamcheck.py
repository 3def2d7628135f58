import time

import pytest

from intel.scamcheck import bare_value, check_text
from content.library import load_library

LIBRARY = load_library()

# Representative texts quoted by police and press (see benchmarks/data/scam_texts.jsonl for the
# sources); the assertions are about behaviour, not scores.
FRAUD = [
    ("【车辆中心】尊敬的车主,您的“ETC通行卡”9月16日已冻结,请立即前往车辆中心:http://***.***.cn重新办理,恢复通行!", "phishing_link"),
    ("【移动积分】您的积分已累计10800分,现可兑换108元,即日将清零,详情请登录官网:http://www.dwz.cz/2c04。", "phishing_link"),
    ("你涉嫌一起非法洗钱案,只有汇钱到指定账户才能证清白。", "police"),
    ("小郭,你明天上午到我办公室来下", "boss_acquaintance"),
    ("对方称已在平台支付成功,让小徐联系平台客服申请提现。小徐提现时,客服称其操作失误导致资金冻结,需交1000元解冻。", "game_trade"),
    ("飞机因故取消,改签需收取20元手续费", "flight"),
    ("对方称邹先生没有备注转账说明,所以主办方没办法出票,需要重新付款,待出票后再办理退款。", "shopping"),
    ("您在某某平台的贷款已严重逾期,即将上报征信,请立即点击链接处理,否则影响子女上学、考公……", "loan_credit"),
]

# Common patterns reported by anti-fraud centres, phrased as citizens forward them (regressions
# for signals added after the labelled set was fixed).
FRAUD += [
    ("妈，我手机坏了，这是我新微信，急需用钱转我5000", "boss_acquaintance"),
    ("您好，我是快手客服，您误开通了直播会员，每月将扣除500元，需要关闭请按我的指示操作", "ecommerce_cs"),
    ("您好，我是顺丰快递，您寄往外地的包裹中检查出违禁品，现在为您转接公安机关", "police"),
    ("【微信支付】您的微信账号存在异常，已被限制登录，请尽快访问 weixin-jc.com 解除限制", "phishing_link"),
    ("美女你好，我是在叙利亚维和的军医，我有一笔钱想寄给你保管", "romance"),
]

BENIGN = [
    "【12306】您的车票已改签成功，如需退票请拨打客服电话",
    "您好，您尾号6789的建设银行卡于11月25日14:02消费1,280.00元，如非本人操作请致电95533",
    "【工商银行】您的验证码为385921，用于网上银行登录，请勿泄露给他人。",
    "【菜鸟驿站】您的包裹已到小区东门驿站，凭取件码 3-2-1108 取件。",
    "妈，我周六回家吃饭，帮我留点饺子。",
    "【中国联通】尊敬的用户，月底了，请关注话费余额。回复TD退订。",
    "“96110”是全国反诈专线,如遇到“96110”打来的电话,说明你可能正在遭遇电信诈骗,一定要立即接听,防止被骗。",
]


@pytest.mark.parametrize("text,type_id", FRAUD)
def test_known_scam_text_is_flagged_with_its_type(text, type_id):
    result = check_text(text, LIBRARY)
    assert result.fraud
    assert result.fraud_type == type_id
    assert result.advice and result.article_id


@pytest.mark.parametrize("text", BENIGN)
def test_ordinary_message_is_not_flagged(text):
    result = check_text(text, LIBRARY)
    assert not result.fraud
    assert result.fraud_type is None


def test_reason_quotes_words_found_in_the_text():
    result = check_text("警官说你涉嫌洗钱，要把钱转到安全账户配合资金清查", LIBRARY)
    assert "安全账户" in result.reason and "洗钱" in result.reason


def test_lookalike_domain_is_named_in_the_reason():
    result = check_text("您的ETC已过期，请尽快登录 etc-gov.top 更新", LIBRARY)
    assert result.fraud and "etc-gov.top" in result.reason


def test_traditional_characters_are_understood():
    result = check_text("尊敬的車主您好!您的ETC賬戶将于明日到期,需要重新升級,請點擊鏈接完成辦理!", LIBRARY)
    assert result.fraud and result.fraud_type == "phishing_link"


def test_number_on_the_risk_list_is_flagged_even_without_other_signals():
    listed = {"17012345678": {"fraud_type": "police", "count": 3}}
    result = check_text("17012345678", LIBRARY, risk_lookup=listed.get)
    assert result.fraud and result.fraud_type == "police"
    assert "17012345678" in result.reason


def test_unlisted_number_alone_is_not_flagged():
    assert not check_text("17012345678", LIBRARY, risk_lookup=lambda v: None).fraud


def test_bare_number_or_link_is_recognised():
    assert bare_value("查号 13800138000") == "13800138000"
    assert bare_value("t.cn/A6ZX5wgg") == "t.cn/A6ZX5wgg"
    assert bare_value("今天天气不错") is None


def test_check_takes_under_5_ms_per_text():
    texts = [t for t, _ in FRAUD] + BENIGN
    started = time.perf_counter()
    for _ in range(20):
        for text in texts:
            check_text(text, LIBRARY)
    per_text_ms = 1000 * (time.perf_counter() - started) / (20 * len(texts))
    assert per_text_ms < 5
