"""The article pages the bot links to."""

from __future__ import annotations

from tests.bot.conftest import staff_client


def test_an_article_page_shows_title_body_and_the_types_advice(client, library):
    response = client.get("/articles/police-basics")
    html = response.get_data(as_text=True)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert library.article("police-basics").title in html
    assert library.fraud_type("police").what_to_do[0] in html
    assert 'name="viewport"' in html


def test_an_unknown_article_is_404(client):
    assert client.get("/articles/nope").status_code == 404


def test_article_text_is_escaped(app, client):
    editor = staff_client(app, "propaganda")
    saved = editor.put("/api/v1/content/article/police-basics", json={
        "id": "police-basics", "title": "<script>alert(1)</script>", "summary": "s", "body": "b",
        "cover": "/static/covers/police.png", "fraud_types": ["police"], "tags": []})
    assert saved.status_code == 200

    html = client.get("/articles/police-basics").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
