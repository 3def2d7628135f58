import opencc
import pytest

from content.library import load_library
from intel.scamcheck import bare_value, check_text

LIBRARY = load_library()

# Representative texts quoted by police and press (see corpora/eval/bulletins.jsonl for the
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


# The kinds of text issue 12 says the rules alone missed on real texts. Written for these tests
# (not in corpora/train); each is checked as written and in traditional characters.
TO_TRADITIONAL = opencc.OpenCC("s2t").convert
MISSED_KINDS = [
    ("跟着王老师操作，这周已经赚了三个点，明天还有一只要拉升", "investment"),
    ("是我，换号了，先别打电话，方便转我两千吗", "boss_acquaintance"),
    ("给抖音视频点个赞就有2元，做完截图领钱", "shuadan"),
    ("招手机兼职，做任务拿佣金，一单20到50元", "shuadan"),
    ("先垫付任务金，完成后返还本金和佣金", "shuadan"),
    ("你名下有个包裹被查出夹带毒品，我们把电话转到警方", "police"),
    ("【医保中心】您的医保账户已暂停使用，请及时登录 yb***.cn 更新资料", "phishing_link"),
    ("【ETC通知】尊敬的用户，因系统升级您的ETC卡已暂停，请于今日前访问网址重新激活",
     "phishing_link"),
    ("【12333】您的社保卡功能已冻结，请点击链接恢复", "phishing_link"),
    ("您好，我是抖音客服，您开通了会员服务，不取消每个月扣费", "ecommerce_cs"),
    ("您网购的快递在运输中丢失了，我们给您三倍赔偿，加一下理赔专员", "ecommerce_cs"),
    ("贷款已经审批，先交3000元保证金就能放款", "loan_credit"),
    ("你的账号卖出去了，但提现需要先交一笔保证金", "game_trade"),
]
EVERYDAY = [
    "妈，我下周回家，给你带了件毛衣",
    "哥，能借我五百吗，月底发工资还你",
    "我换手机号了，新号发你微信上了",
    "快递已经寄出，明天到，注意查收",
    "下午三点开会，记得带电脑",
    "【工商银行】您尾号8801卡12月3日消费128.00元，余额2,031.50元。",
    "【ETC】您的车辆于12月2日通行京港澳高速，扣费45.00元。",
    "【12333】您的社保缴费已到账，可在掌上12333查询。",
    "【医保】您的医保电子凭证已激活。",
    "你看那个新闻没，又有人被刷单骗了",
]


@pytest.mark.parametrize("text,type_id", MISSED_KINDS)
def test_scam_fragment_without_keywords_is_flagged_with_its_type(text, type_id):
    result = check_text(text, LIBRARY)
    assert result.fraud and result.fraud_type == type_id


@pytest.mark.parametrize("text,type_id", MISSED_KINDS)
def test_scam_fragment_in_traditional_characters_is_flagged_with_its_type(text, type_id):
    result = check_text(TO_TRADITIONAL(text), LIBRARY)
    assert result.fraud and result.fraud_type == type_id


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_chat_or_notice_is_not_flagged(text):
    assert not check_text(text, LIBRARY).fraud
    assert not check_text(TO_TRADITIONAL(text), LIBRARY).fraud


@pytest.mark.xfail(reason="known shortfall: an urgent loan with the amount in Chinese numerals "
                          "reads like an everyday request between relatives",
                   strict=False)
@pytest.mark.parametrize("text", ["在吗？我这边急用一千块，明天上午就还你"])
def test_known_misses_stay_documented(text):
    assert check_text(text, LIBRARY).fraud


@pytest.mark.parametrize("text,type_id", [
    ("老师刚发的票又涨停了，还没上车的抓紧", "investment"),
    ("点赞一次2元", "shuadan"),
    ("加我新微信，原来那个号不用了", "boss_acquaintance"),
])
def test_one_line_fragments_of_the_issue_kinds_are_flagged(text, type_id):
    result = check_text(text, LIBRARY)
    assert result.fraud and result.fraud_type == type_id


def test_full_width_and_spaced_out_text_reads_like_plain_text():
    plain = check_text("点赞一个视频2元，加微信领任务", LIBRARY)
    disguised = check_text("点 赞 一 个 视 频 ２ 元 ， 加 V 信 领 任 务", LIBRARY)
    assert disguised.fraud == plain.fraud and disguised.fraud_type == plain.fraud_type
    assert disguised.model_p == plain.model_p


def test_every_result_has_one_of_three_levels_and_fraud_follows_it():
    for text in [t for t, _ in MISSED_KINDS] + EVERYDAY:
        result = check_text(text, LIBRARY)
        assert result.level in ("high", "suspicious", "none")
        assert result.fraud == (result.level != "none")


def test_a_rules_hit_is_high_whatever_the_model_says():
    result = check_text("你涉嫌洗钱，把钱转到安全账户配合资金清查", LIBRARY, model=None)
    assert result.fraud and result.level == "high" and result.model_p is None


def test_model_only_warning_still_gives_a_reason():
    result = check_text("给抖音视频点个赞就有2元，做完截图领钱", LIBRARY)
    assert result.fraud and result.reason


def test_clean_verdict_does_not_reassure_and_offers_96110():
    clean = LIBRARY.reply("check_clean")
    assert clean.startswith(LIBRARY.signals["verdicts"]["none"])
    assert "96110" in clean and "不说明对方可信" in clean


WARNINGS_AND_NOTICES = [
    "医保部门从不通过短信发送链接，也不会要求参保人在网页上填写银行卡密码",
    "快递公司不会主动打电话要求赔付后让你转账，遇到请挂断并核实",
    "收款金额￥36.00 收款账户零钱 付款方备注 拼车费",
    "扣费金额￥9.90 扣费项目音乐会员自动续费 扣费方式零钱 收单机构财付通支付科技有限公司",
    "【建设银行】您尾号2208账户03月08日14时20分支出人民币66.00元,可用余额1320.45元。",
]


@pytest.mark.parametrize("text", WARNINGS_AND_NOTICES)
def test_an_official_warning_or_transaction_notice_is_not_flagged(text):
    assert not check_text(text, LIBRARY).fraud
    assert not check_text(TO_TRADITIONAL(text), LIBRARY).fraud


def test_benign_markers_silence_the_model_but_not_the_rules():
    # A transaction-notice phrase does not excuse a request for the safe account.
    result = check_text("你涉嫌洗钱，把卡内余额全部转到安全账户接受资金清查", LIBRARY)
    assert result.fraud and result.level == "high" and result.fraud_type == "police"


def test_mass_changed_number_message_asking_for_a_reply_is_flagged():
    result = check_text("我是老陈，原号码已停用，今起启用此号码，请惠存，收到请回复", LIBRARY)
    assert result.fraud and result.fraud_type == "boss_acquaintance"


@pytest.mark.parametrize("text", ["你好", "您好", "在吗"])
def test_a_greeting_alone_is_not_flagged(text):
    assert not check_text(text, LIBRARY).fraud
