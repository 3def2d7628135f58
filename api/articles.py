"""Public article pages (``/articles/<id>``): what the bot's "详细了解" links open in WeChat.

A plain, mobile-first HTML page from the content library (staff edits included); no login, no
scripts. All text comes from content/ data; the template only lays it out (autoescaped).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template_string

from content.store import effective_library

bp = Blueprint("articles", __name__)

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{margin:0;font:17px/1.7 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
color:#222;background:#f6f6f6}
main{max-width:640px;margin:0 auto;padding:20px 18px 40px;background:#fff;min-height:100vh}
h1{font-size:22px;line-height:1.4;margin:0 0 12px}
.summary{color:#576b95;border-left:3px solid #576b95;padding-left:10px}
h2{font-size:18px;margin:24px 0 8px}
ul{padding-left:20px}
footer{margin-top:28px;padding:12px;background:#fff4e5;border-radius:6px;font-weight:600}
</style></head>
<body><main>
{% if article %}
<h1>{{ article.title }}</h1>
<p class="summary">{{ article.summary }}</p>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>{% endfor %}
{% for t in types %}
<h2>{{ t.name }} · {{ labels.signs }}</h2>
<ul>{% for s in t.warning_signs %}<li>{{ s }}</li>{% endfor %}</ul>
<h2>{{ t.name }} · {{ labels.todo }}</h2>
<ul>{% for s in t.what_to_do %}<li>{{ s }}</li>{% endfor %}</ul>
{% endfor %}
{% else %}
<h1>{{ title }}</h1>
{% endif %}
<footer>{{ footer }}</footer>
</main></body></html>"""


@bp.get("/articles/<article_id>")
def show_article(article_id: str) -> Any:
    library = effective_library(current_app.config["REDIS"])
    article = library.articles_by_id.get(article_id)
    labels = {"signs": library.reply("article_warning_signs"),
              "todo": library.reply("article_what_to_do")}
    if article is None:
        title = library.reply("article_not_found")
        html = render_template_string(_PAGE, article=None, title=title, labels=labels,
                                      footer=library.reply("article_footer"))
        return Response(html, status=404, mimetype="text/html")
    types = [library.types_by_id[t] for t in article.fraud_types if t in library.types_by_id]
    html = render_template_string(
        _PAGE, article=article, title=article.title, types=types, labels=labels,
        paragraphs=[p for p in article.body.split("\n") if p.strip()],
        footer=library.reply("article_footer"))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
