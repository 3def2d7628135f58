"""The shipped classifier and the corpora it comes from."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from intel.classifier import MODEL_PATH, ScamModel, load_model, ngrams, shipped_model
from intel.corpus import ROOT, CorpusError, read_corpus, read_dir
from intel.normalize import normalize_text

# Data licensed for research only may be measured locally but never shipped or trained on.
RESEARCH_ONLY = ("telecom_fraud_texts", "ccl23", "fcc")


def test_shipped_model_loads_and_names_the_fraud_types():
    model = shipped_model()
    assert model is not None
    assert "police" in model.types and "phishing_link" in model.types


def test_prediction_is_a_probability_and_a_known_type():
    model = load_model()
    prediction = model.predict("你名下的包裹里查出毒品，马上配合警方调查")
    assert 0.0 <= prediction.p_fraud <= 1.0
    assert prediction.fraud_type in model.types and 0.0 < prediction.p_type <= 1.0


def test_traditional_and_simplified_text_get_the_same_prediction():
    model = load_model()
    assert model.predict("老师带你炒股，稳赚不赔") == model.predict("老師帶你炒股，穩賺不賠")


def test_empty_text_gets_a_prediction():
    assert 0.0 <= load_model().predict("").p_fraud <= 1.0


def test_digits_and_links_are_folded_into_one_feature():
    assert ngrams("点赞2元") == ngrams("点赞35元")
    assert ngrams("登录 abc.cn 办理") == ngrams("登录 xyz.top 办理")


def test_weights_file_is_small():
    assert MODEL_PATH.stat().st_size < 1_000_000


def test_a_model_trained_by_the_script_separates_what_it_learnt():
    pytest.importorskip("sklearn")
    from intel.training import train

    items: list[dict[str, Any]] = [
        {"text": "老师带你炒股稳赚", "label": "fraud", "fraud_type": "investment"},
        {"text": "导师推荐牛股", "label": "fraud", "fraud_type": "investment"},
        {"text": "点赞一个两元", "label": "fraud", "fraud_type": "shuadan"},
        {"text": "做任务返佣金点赞", "label": "fraud", "fraud_type": "shuadan"},
        {"text": "妈我周末回家", "label": "benign", "fraud_type": None},
        {"text": "下午开会带电脑", "label": "benign", "fraud_type": None},
    ]
    model = ScamModel(train(items, min_df=1))
    # Trained on these items, the model must at least separate them the right way round.
    assert model.predict("老师带你炒股稳赚").p_fraud > model.predict("妈我周末回家").p_fraud
    assert model.predict("点赞一个两元").fraud_type == "shuadan"


def test_every_corpus_item_says_where_it_came_from_and_under_what_licence():
    for folder in ("train", "eval"):
        for item in read_dir(ROOT / folder):
            assert item["source"] and item["licence"], item["text"]
            assert not any(name in item["source"].lower() for name in RESEARCH_ONLY)


def test_training_items_are_written_by_the_project():
    assert {item["licence"] for item in read_dir(ROOT / "train")} == {"project-own"}


def test_no_evaluation_text_is_also_a_training_text():
    train = {normalize_text(i["text"]) for i in read_dir(ROOT / "train")}
    overlap = [i["text"] for i in read_dir(ROOT / "eval") if normalize_text(i["text"]) in train]
    assert overlap == []


def test_a_corpus_line_before_any_header_is_refused(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("[police]\n你涉嫌洗钱\n", encoding="utf-8")
    with pytest.raises(CorpusError):
        read_corpus(path)


def test_shipped_weights_record_how_they_were_trained():
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
        meta = json.load(f)["meta"]
    assert meta["items"] > 0 and meta["vocabulary"] > 0
