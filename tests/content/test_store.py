import pytest

from content.library import ContentError, load_library
from content.store import effective_library, get_item, history, save_item
from store import keys as keys_content


def article(**changes):
    base = {
        "id": "police-basics", "title": "新标题", "summary": "摘要", "body": "正文",
        "cover": "/static/covers/police.png", "fraud_types": ["police"], "tags": ["防骗知识"],
    }
    return {**base, **changes}


def test_saved_edit_overrides_the_shipped_item(content_redis):
    version = save_item(content_redis, "article", article(), editor="officer-7", now_ms=1000)
    assert version == 1
    assert effective_library(content_redis).article("police-basics").title == "新标题"
    assert load_library().article("police-basics").title != "新标题"


def test_each_save_adds_a_version_to_the_history(content_redis):
    save_item(content_redis, "article", article(title="一"), editor="a", now_ms=1)
    assert save_item(content_redis, "article", article(title="二"), editor="b", now_ms=2) == 2
    versions = history(content_redis, "article", "police-basics")
    assert [(v["version"], v["editor"], v["item"]["title"]) for v in versions] == [
        (1, "a", "一"), (2, "b", "二")]
    item = get_item(content_redis, "article", "police-basics")
    assert item is not None and item["item"]["title"] == "二"


def test_new_article_is_added(content_redis):
    save_item(content_redis, "article", article(id="police-new"), editor="a")
    articles = effective_library(content_redis).articles_for("police")
    assert [a.id for a in articles][-1] == "police-new"


def test_bad_edit_is_refused_and_changes_nothing(content_redis):
    with pytest.raises(ContentError, match="unknown fraud type"):
        save_item(content_redis, "article", article(fraud_types=["nope"]), editor="a")
    assert content_redis.dbsize() == 0
    assert history(content_redis, "article", "police-basics") == []


def test_reply_edit_with_undeclared_field_is_refused(content_redis):
    reply = {"name": "bind_ok", "fields": ["phone_masked"], "text": "好了 {phone_masked} {x}"}
    with pytest.raises(ContentError, match=r"uses \{x\}, which this reply does not have"):
        save_item(content_redis, "reply", reply, editor="a")
    assert content_redis.dbsize() == 0


def test_reply_edit_changes_rendered_text(content_redis):
    reply = {"name": "bind_ok", "fields": ["phone_masked"], "text": "已绑定 {phone_masked}"}
    save_item(content_redis, "reply", reply, editor="a")
    library = effective_library(content_redis)
    assert library.reply("bind_ok", phone_masked="138****0000") == "已绑定 138****0000"


def test_all_keys_share_one_cluster_hash_tag():
    keys = [keys_content.content_current(), keys_content.content_revision(),
            keys_content.content_history("article", "x")]
    assert all(k.startswith("{content}:") for k in keys)


def test_versioned_save_runs_on_a_three_master_cluster(cluster_redis):
    # The save transaction WATCHes and writes several keys; the {content} tag keeps them in one
    # slot.
    assert save_item(cluster_redis, "article", article(), editor="a") == 1
    assert save_item(cluster_redis, "article", article(title="二"), editor="a") == 2
    assert effective_library(cluster_redis).article("police-basics").title == "二"
