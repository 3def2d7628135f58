"""WeChat's rules for template keyword values: a value outside its keyword's type is refused
with 47003 "argument invalid", and the whole message with it.

A category template's keyword is named by its type plus a number (``thing1``,
``character_string3``). The limits are the subscribe-message parameter table ("发送订阅通知",
https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html; the same table
in https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html).
Where the table is loose ("符号", "时间格式") the simulator is strict: ASCII punctuation is a
symbol, times are the documented ``15:01`` / ``2019年10月1日 15:01``. A value the simulator
accepts is one WeChat accepts; the reverse need not hold.
"""

from __future__ import annotations

import re
import string

# CJK Unified Ideographs and Extension A: what the table calls 汉字.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_SYMBOL = re.escape(string.punctuation)
_DATE = r"\d{4}年\d{1,2}月\d{1,2}日"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d"
_TIME_POINT = rf"(?:{_DATE} ?)?{_CLOCK}"
_DATE_POINT = rf"{_DATE}(?: ?{_CLOCK})?"

# type → (pattern the whole value must match, documented rule)
RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "thing": (re.compile(r"[^\x00-\x1f\x7f]{1,20}"), "≤ 20 characters"),
    "number": (re.compile(r"(?=[\d.]{1,32}$)\d+(?:\.\d+)?"), "≤ 32 digits, may have decimals"),
    "letter": (re.compile(r"[A-Za-z]{1,32}"), "≤ 32 letters"),
    "symbol": (re.compile(rf"[{_SYMBOL}]{{1,5}}"), "≤ 5 symbols"),
    "character_string": (re.compile(rf"[A-Za-z0-9{_SYMBOL}]{{1,32}}"),
                         "≤ 32 digits, letters or symbols"),
    "time": (re.compile(rf"{_TIME_POINT}(?:~{_TIME_POINT})?"),
             "24-hour time, optionally with a date: 15:01 or 2019年10月1日 15:01"),
    "date": (re.compile(rf"{_DATE_POINT}(?:~{_DATE_POINT})?"),
             "a date, optionally with a time: 2019年10月1日 or 2019年10月1日 15:01"),
    "amount": (re.compile(r"[¥￥$€£](?=[\d.]{1,11}(?:元)?$)\d{1,10}(?:\.\d+)?元?"),
               "a currency sign + ≤ 10 digits, may have decimals, may end in 元"),
    "phone_number": (re.compile(rf"[0-9{_SYMBOL}]{{1,17}}"), "≤ 17 digits or symbols"),
    "car_number": (re.compile(rf"[{_HAN}A-Za-z0-9][A-Za-z0-9]{{0,6}}[{_HAN}A-Za-z0-9]?"),
                   "≤ 8: letters/digits, the first and last may be Chinese"),
    "name": (re.compile(rf"[{_HAN}A-Za-z{_SYMBOL}]{{1,10}}|[A-Za-z{_SYMBOL}]{{1,20}}"),
             "≤ 10 Chinese characters or ≤ 20 letters/symbols"),
    "phrase": (re.compile(rf"[{_HAN}]{{1,5}}"), "≤ 5 Chinese characters"),
}
_TYPE = re.compile(r"([a-z_]+?)\d+")


def keyword_type(keyword: str) -> str | None:
    """``character_string3`` → ``character_string``; None for names outside the table
    (pre-2023 ``keyword1`` templates, which WeChat no longer checks by type)."""
    match = _TYPE.fullmatch(keyword)
    if match is None or match.group(1) not in RULES:
        return None
    return match.group(1)


def refusal(keyword: str, value: object) -> str | None:
    """Why WeChat would refuse ``value`` for ``keyword`` (None: accepted)."""
    if not isinstance(value, str) or not value:
        return "value is empty or not a string"
    kind = keyword_type(keyword)
    if kind is None:
        return None
    pattern, rule = RULES[kind]
    if pattern.fullmatch(value) is None:
        return f"{kind}: {rule}"
    return None
