import copy
import shutil
from pathlib import Path

import pytest

from content.library import DATA_DIR, ContentError, build_library, load_library, read_documents


@pytest.fixture
def docs():
    return copy.deepcopy(read_documents())


def test_shipped_library_loads_with_every_required_type():
    library = load_library()
    ids = {t.id for t in library.fraud_types}
    assert {"shuadan", "investment", "loan_credit", "ecommerce_cs", "police", "boss_acquaintance",
            "shopping", "game_trade", "romance", "flight", "phishing_link", "other"} <= ids
    for type_id in ids:
        assert library.articles_for(type_id), type_id


def test_missing_field_names_file_item_and_field(docs):
    del docs["fraud_types"][0]["how_it_works"]
    with pytest.raises(ContentError) as exc:
        build_library(docs)
    assert any(e.startswith("fraud_types.json: item 'shuadan': how_it_works:")
               for e in exc.value.errors)


def test_article_with_unknown_fraud_type_is_refused(docs):
    docs["articles"][0]["fraud_types"] = ["no_such_type"]
    with pytest.raises(ContentError) as exc:
        build_library(docs)
    assert "unknown fraud type 'no_such_type'" in str(exc.value)
    assert "articles.json: item 'shuadan-basics': fraud_types" in str(exc.value)


def test_template_using_undeclared_field_is_refused(docs):
    docs["replies"]["bind_ok"]["text"] = "绑定成功 {phone_masked} {nickname}"
    with pytest.raises(ContentError) as exc:
        build_library(docs)
    assert exc.value.errors == ["replies.json: reply 'bind_ok': text: uses {nickname}, which this "
                                "reply does not have (its fields: {phone_masked})"]


def test_reply_longer_than_wechat_limit_is_refused(docs):
    docs["replies"]["help"]["text"] = "很长" * 400
    with pytest.raises(ContentError, match="over 600"):
        build_library(docs)


def test_menu_with_too_many_top_buttons_is_refused(docs):
    docs["menu"]["button"].append({"type": "click", "name": "多余", "key": "EXTRA"})
    with pytest.raises(ContentError, match=r"menu\.json: button"):
        build_library(docs)


def test_bad_regex_in_signals_is_refused(docs):
    docs["fraud_types"][0]["signals"]["patterns"].append({"regex": "(", "weight": 1, "label": "x"})
    with pytest.raises(ContentError, match="regex: does not compile"):
        build_library(docs)


def test_invalid_json_file_reports_file_and_line(tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "faq.json").write_text('[{"id": "x",\n "question": }]', encoding="utf-8")
    with pytest.raises(ContentError, match=r"faq.json: line 2: invalid JSON"):
        load_library(data)


def test_reply_renders_named_fields():
    library = load_library()
    text = library.reply("bind_code_sent", phone_masked="138****1234", ttl_min=5)
    assert "138****1234" in text and "5" in text


def test_reply_without_required_field_raises():
    with pytest.raises(KeyError, match="phone_masked"):
        load_library().reply("bind_ok")


def test_every_shipped_reply_fits_in_one_wechat_message():
    library = load_library()
    for reply in library.replies.values():
        rendered = library.reply(reply.name, **dict.fromkeys(reply.fields, "x" * 20))
        assert len(rendered) <= 600, reply.name


def test_menu_keys_cover_the_features():
    keys = {
        sub["key"]
        for button in load_library().menu["button"]
        for sub in button.get("sub_button", [button])
    }
    assert {"CHECK", "REPORT", "MY_BINDINGS", "HELP_96110", "KNOW_ALL"} <= keys
