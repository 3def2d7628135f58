"""防骗知识: type explanations by menu key and by name, the list, and the queued details."""

from __future__ import annotations

from store.streams import DurableQueue
from worker.queues import BOT


def bot_jobs(redis, config):
    queue = DurableQueue(redis, BOT, config.queue)
    queue.ensure_group()
    return queue.read("test", count=10, block_ms=None)


def test_menu_key_explains_the_fraud_type_with_its_article_link(phone, config):
    reply = phone.click("KNOW_police")

    assert reply.startswith("【冒充公检法】")
    assert f"{config.service.public_url}/articles/police-basics" in reply


def test_every_fraud_type_has_a_working_menu_key(phone, library):
    for fraud_type in library.fraud_types:
        assert fraud_type.name in phone.click(f"KNOW_{fraud_type.id}")


def test_warning_signs_follow_as_one_queued_customer_service_message(phone, redis, config,
                                                                    library):
    phone.click("KNOW_shuadan")

    jobs = bot_jobs(redis, config)

    assert [job.type for job in jobs] == ["bot.send_text"]
    assert jobs[0].payload["openid"] == phone.openid
    assert library.fraud_type("shuadan").warning_signs[0] in jobs[0].payload["text"]


def test_typing_a_type_name_explains_it(phone):
    assert phone.say("刷单返利").startswith("【刷单返利】")


def test_the_bracketed_nickname_finds_its_type(phone):
    assert phone.say("杀猪盘").startswith("【虚假网络投资理财")


def test_the_short_menu_name_finds_its_type(phone):
    assert phone.say("冒充客服").startswith("【冒充电商物流客服】")


def test_more_scams_lists_every_type_with_a_link(phone, library, config):
    reply = phone.click("KNOW_ALL")

    for fraud_type in library.fraud_types:
        assert fraud_type.name in reply
    assert reply.count(f"{config.service.public_url}/articles/") == len(library.fraud_types)


def test_knowledge_word_shows_the_list(phone, library):
    assert library.fraud_type("romance").name in phone.say("防骗知识")
