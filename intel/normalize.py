"""Text normalisation shared by the scam check, the classifier and the risk list.

Scam texts hide from keyword filters the same few ways: traditional characters, full-width or
circled digits, zero-width characters, letters and digits spaced apart ("h t t p", "1 3 9"), and
nicknames for the channels they move victims to (V信, VX, 薇, 扣扣). Folding all of these into one
form lets a single phrase list and a single set of model features see them as the same text.

Two levels:
- ``fold(text)`` keeps case and script: NFKC, invisible characters removed, digits unified.
  The risk list uses it, because shortener paths are case-sensitive.
- ``normalize_text(text)`` also converts traditional to simplified (OpenCC ``t2s`` plus a few
  Taiwan/Hong Kong word forms), lower-cases, closes spacing obfuscation and unifies the
  channel nicknames. The check and the classifier use it.

Both are total (never raise on any ``str``) and idempotent; tests/content/test_normalize.py
checks both properties with Hypothesis.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Zero-width and formatting characters (Unicode category Cf) carry no meaning in a forwarded
# text; scammers insert them to split keywords. Soft hyphen and variation selectors too.
_INVISIBLE_EXTRA = frozenset("\u00ad\u034f\u115f\u1160\u3164\uffa0")
_CHINESE_DIGITS = str.maketrans("〇零一二三四五六七八九幺洞", "0012345678910")
# Five or more Chinese numerals in a row spell a number (phone, QQ, amount), not words.
_CHINESE_NUMBER = re.compile(r"[〇零一二三四五六七八九幺洞]{5,}")
_SPACE = re.compile(r"[^\S\n]+")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_PUNCT = r",.!?:;、。，！？：；“”‘’（）()【】《》"
# Whitespace next to a CJK character or punctuation, or between two digits: Chinese puts no
# spaces between words, so these are padding ("点 赞 ２ 元"), not word breaks.
_CJK_GAP = re.compile(
    rf"(?<=[{_CJK}{_PUNCT}])[^\S\n]+|[^\S\n]+(?=[{_CJK}{_PUNCT}])"
)
_DIGIT_GAP = re.compile(r"(?<=\d)[^\S\n]+(?=\d)")
# Three or more single ASCII letters/digits separated by single spaces: "h t t p", "v x".
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])(?:[a-z0-9] ){2,}[a-z0-9](?![a-z0-9])")
# Spaces around the punctuation of a link: "x . cn", "http : / /".
_LINK_GAP = re.compile(r"(?<=[a-z0-9]) (?=[:/.][a-z0-9:/. ])|(?<=[:/.]) (?=[a-z0-9:/.])")
# WeChat and QQ nicknames used to dodge filters. Bounded by non-letters so URLs stay intact.
_WECHAT = re.compile(
    r"(?<![a-z0-9])(?:wechat|weixin|wei信|vx|wx|v信|vxin)(?![a-z0-9])"
    r"|[威薇徽维危卫胃]信(?![息用号任])|微❤|微x(?![a-z])"
)
_ADD_WECHAT = re.compile(
    r"(?<=[加+＋])[ ]?(?:[v薇威](?![a-z0-9信])|微(?!信|博|笑|软|小|型|调|弱|波))"
)
_QQ = re.compile(r"扣扣|(?<![a-z])q q(?![a-z])|企鹅号")
# Word forms that OpenCC's character-level t2s leaves in their Taiwan/Hong Kong shape.
_REGIONAL_WORDS = (
    ("连结", "链接"), ("网址连结", "网址链接"), ("简讯", "短信"), ("讯息", "信息"),
    ("帐户", "账户"), ("帐号", "账号"), ("网路", "网络"), ("软体", "软件"), ("点选", "点击"),
    ("应用程式", "应用程序"), ("程式", "程序"), ("资讯", "信息"), ("电邮", "邮箱"),
    ("网志", "博客"), ("台币", "元"), ("港币", "元"),
)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _is_invisible(ch: str) -> bool:
    return ch in _INVISIBLE_EXTRA or (unicodedata.category(ch) == "Cf" and ch != "\n")


def fold(text: str) -> str:
    """NFKC (full-width and circled digits → ASCII), invisible characters dropped, Chinese
    numerals in runs of five or more turned into digits. Case and script are kept."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    text = _CHINESE_NUMBER.sub(lambda m: m.group(0).translate(_CHINESE_DIGITS), text)
    return unicodedata.normalize("NFKC", text)


def _normalize_once(text: str) -> str:
    text = fold(text)
    text = _t2s().convert(text)
    for regional, mainland in _REGIONAL_WORDS:
        text = text.replace(regional, mainland)
    text = unicodedata.normalize("NFKC", text.lower())
    text = _SPACE.sub(" ", text)
    text = _CJK_GAP.sub("", text)
    text = _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = _DIGIT_GAP.sub("", text)
    text = _LINK_GAP.sub("", text)
    text = _QQ.sub("qq", text)
    text = _WECHAT.sub("微信", text)
    text = _ADD_WECHAT.sub("微信", text)
    return text.strip()


def normalize_text(text: str) -> str:
    """The form every phrase rule and model feature is matched against."""
    once = _normalize_once(text)
    # One pass can expose a new match (a nickname that was split by spaces); a second pass
    # settles it, so the result is a fixed point.
    twice = _normalize_once(once)
    return twice if twice == once else _normalize_once(twice)
