"""The shared normalisation: what scammers do to dodge keyword lists comes out as one form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intel.normalize import fold, normalize_text

# Text built from the pieces obfuscation is made of, so the generator reaches the rules often.
PIECES = st.sampled_from(
    [*"微信威薇V信vxQq扣 \u200b\u3000０１２３①⑨〇一二三四五六七八九零幺加+.:/http點擊連結帳號",
     "老師", "vx", "h t t p", "1 3 9", "加 v", "\n"]
)
OBFUSCATED = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalize_never_raises_and_is_idempotent_on_any_text(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(OBFUSCATED)
def test_normalize_is_idempotent_on_obfuscated_text(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fold_never_raises_and_is_idempotent(text):
    assert fold(fold(text)) == fold(text)


@pytest.mark.parametrize("raw,expected", [
    ("老師帶你炒股，請點擊連結", "老师带你炒股,请点击链接"),
    ("１３９ １２３４ ５６７８", "13912345678"),
    ("①③⑧", "138"),
    ("扣扣：一三九一二三四五六七八", "qq:13912345678"),
    ("h t t p : / / x . cn", "http://x.cn"),
    ("微\u200b信", "微信"),
    ("加 v 领取", "加微信领取"),
    ("请加薇信", "请加微信"),
    ("退款请加VX：abc", "退款请加微信:abc"),
    ("加 我 微 信", "加我微信"),
])
def test_obfuscations_come_out_in_one_form(raw, expected):
    assert normalize_text(raw) == expected


def test_ordinary_words_are_left_alone():
    assert normalize_text("我换了新微信，微博也在用") == "我换了新微信,微博也在用"
    assert normalize_text("一个人来") == "一个人来"


def test_fold_keeps_case_for_case_sensitive_short_links():
    assert fold("ｔ.ｃｎ/A6aBc") == "t.cn/A6aBc"
