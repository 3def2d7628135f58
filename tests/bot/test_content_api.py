"""Staff content API: list, get, create, edit (versioned), history; bad edits change nothing."""

from __future__ import annotations

import pytest

from console import audit
from tests.bot.conftest import staff_client


@pytest.fixture
def editor(app):
    return staff_client(app, "propaganda", "editor1")


def article(**changes):
    base = {"id": "police-new", "title": "新标题", "summary": "摘要", "body": "正文第一段\n第二段",
            "cover": "/static/covers/police.png", "fraud_types": ["police"], "tags": ["防骗知识"]}
    return base | changes


def test_listing_articles_includes_the_shipped_ones(editor):
    ids = [item["id"] for item in editor.get("/api/v1/content/article").get_json()["items"]]
    assert "police-basics" in ids


def test_creating_an_article_saves_version_one(editor):
    response = editor.post("/api/v1/content/article", json=article())

    assert response.status_code == 200
    assert response.get_json()["version"] == 1
    assert editor.get("/api/v1/content/article/police-new").get_json()["item"]["title"] == "新标题"


def test_creating_an_existing_id_is_a_conflict(editor):
    response = editor.post("/api/v1/content/article", json=article(id="police-basics"))
    assert response.status_code == 409


def test_editing_keeps_every_version_in_the_history(editor):
    editor.post("/api/v1/content/article", json=article())
    editor.put("/api/v1/content/article/police-new", json=article(title="改过的标题"))

    versions = editor.get("/api/v1/content/article/police-new/history").get_json()["versions"]

    assert [(v["version"], v["editor"], v["item"]["title"]) for v in versions] == [
        (1, "editor1", "新标题"), (2, "editor1", "改过的标题")]


def test_a_bad_edit_is_422_with_errors_and_changes_nothing(editor):
    response = editor.put("/api/v1/content/article/police-basics",
                          json=article(id="police-basics", fraud_types=["no_such_type"]))

    assert response.status_code == 422
    assert any("no_such_type" in error for error in response.get_json()["errors"])
    assert editor.get("/api/v1/content/article/police-basics/history").get_json()["versions"] == []


def test_an_edited_reply_is_what_the_bot_says_next(editor, phone):
    response = editor.put("/api/v1/content/reply/help_96110",
                          json={"fields": [], "text": "请拨打96110（测试文案）"})

    assert response.status_code == 200
    assert phone.click("HELP_96110") == "请拨打96110（测试文案）"


@pytest.mark.parametrize("bad", ["\x01", "\x00", "\ufffe", "\x1b[31m"])
def test_an_edit_with_a_character_xml_cannot_carry_is_refused_and_the_bot_still_answers(
        editor, phone, bad):
    # A reply goes out inside XML: a control character would make every answer unreadable
    # to WeChat (the follower sees "该公众号暂时无法提供服务").
    response = editor.put("/api/v1/content/reply/help_96110",
                          json={"fields": [], "text": f"请拨打96110{bad}"})
    refused_article = editor.put("/api/v1/content/article/police-basics",
                                 json=article(id="police-basics", title=f"标题{bad}"))

    assert response.status_code == 422 and refused_article.status_code == 422
    assert any("U+" in error for error in response.get_json()["errors"])
    assert "96110" in phone.click("HELP_96110")


def test_edits_are_audited(editor, redis):
    editor.post("/api/v1/content/article", json=article())

    [entry] = audit.entries(redis, action="content.")
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "editor1", "content.create", "article:police-new")


def test_duty_officers_may_not_edit_content(app):
    response = staff_client(app, "duty").post("/api/v1/content/article", json=article())
    assert response.status_code == 403


def test_unknown_kind_is_404(editor):
    assert editor.get("/api/v1/content/poems").status_code == 404
