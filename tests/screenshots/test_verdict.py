"""The verdict on recognised lines: same scam check as a text, quoting the lines with evidence."""

from __future__ import annotations

from content.library import load_library
from screenshots.verdict import MAX_QUOTED_LINES, judge

URL = "http://example.test"


def test_no_lines_means_no_text_found():
    assert judge([], load_library(), URL).reply == "screenshot_no_text"


def test_an_innocent_chat_is_clean_and_counts_its_lines():
    verdict = judge(["10:21", "妈，我晚上回家吃饭", "好的"], load_library(), URL)

    assert (verdict.reply, verdict.fields) == ("screenshot_clean", {"line_count": 3})


def test_a_scam_chat_quotes_only_its_suspicious_lines_and_links_the_article():
    lines = ["10:21", "您好，我是京东金融客服", "您开通的百万保障即将扣费", "下午好",
             "请下载屏幕共享软件关闭服务", "点击 http://jd-kefu.xyz/stop 取消"]

    verdict = judge(lines, load_library(), URL)

    assert verdict.reply == "screenshot_fraud"
    assert 0 < len(verdict.quoted) <= MAX_QUOTED_LINES
    assert set(verdict.quoted) <= set(lines) - {"10:21", "下午好"}
    assert verdict.fields["article_url"].startswith(URL + "/articles/")
