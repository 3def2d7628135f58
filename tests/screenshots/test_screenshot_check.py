"""A picture sent from the simulated phone is fetched with media/get, read and checked; the
verdict arrives as a customer-service message. OCR runs for real (few tests: CPU is shared)."""

from __future__ import annotations

from content.library import load_library
from intel import reports
from screenshots import results
from screenshots.jobs import job_id
from tests.screenshots import render
from tests.screenshots.conftest import start_shots

LIB = load_library()

SCAM_CHAT = render.chat([
    ("昨天 10:21", "in", "您好，我是京东金融客服"),
    ("", "in", "您开通的百万保障即将自动扣费"),
    ("", "out", "我没开通过啊"),
    ("10:25", "in", "请下载屏幕共享软件，我教您关闭"),
    ("", "in", "客服专线 13912345678"),
    ("", "in", "或点击 http://jd-kefu.xyz/stop 取消"),
])
ETC_SMS = render.sms("106912345678", [
    ("今天 09:12", "【ETC服务】您的ETC已失效，请点击 http://etc-gov.cn.xyz 重新认证"),
])


def test_a_chat_screenshot_is_answered_at_once_then_judged_quoting_its_suspicious_lines(shots):
    openid = shots.follower()

    assert shots.send(openid, SCAM_CHAT.png) == LIB.reply("screenshot_reading")
    assert shots.answers(openid) == []
    shots.run_jobs()

    (answer,) = shots.answers(openid)
    assert answer.startswith("⚠️ 截图内容高度疑似诈骗")
    quoted = [line for line in answer.splitlines() if line.startswith("「")]
    assert quoted and all(any(part in line for part in SCAM_CHAT.lines) or "…" in line
                          for line in quoted)
    assert any("屏幕共享" in line or "jd-kefu" in line or "百万保障" in line for line in quoted)
    assert "/articles/" in answer


def test_an_sms_screenshot_with_a_fake_link_gets_a_fraud_verdict_and_its_text_is_kept(shots):
    openid = shots.follower()
    sent = shots.sbx.send_image(openid, ETC_SMS.png)
    shots.run_jobs()

    (answer,) = shots.answers(openid)
    assert "高度疑似诈骗" in answer
    kept = results.get(shots.redis, shots.config, job_id(openid, sent["msg_id"]))
    assert kept is not None and "ETC" in kept["text"] and kept["status"] == "read"
    # Sealed: the recognised text is not readable in Redis.
    assert "ETC" not in repr(shots.redis.hgetall(f"shot:{job_id(openid, sent['msg_id'])}"))


def test_a_picture_without_text_says_no_text_was_found(shots):
    openid = shots.follower()
    shots.send(openid, render.blank())
    shots.run_jobs()

    assert shots.answers(openid) == [LIB.reply("screenshot_no_text")]


def test_a_screenshot_sent_to_report_adds_its_text_and_numbers_to_the_clue(shots):
    openid = shots.follower()
    shots.sbx.click_menu(openid, "REPORT")

    reply = shots.send(openid, SCAM_CHAT.png)
    shots.run_jobs()

    (clue,) = reports.list_clues(shots.redis, shots.config, status="all")
    assert reply == LIB.reply("report_receipt", clue_id=clue["id"])
    assert "13912345678" in clue["values"]
    assert "京东金融客服" in clue["ocr_text"]
    assert shots.answers(openid) == []  # the receipt was the answer
    assert "13912345678" not in repr(shots.redis.hgetall(f"clue:{{clues}}:{clue['id']}"))


def test_an_ocr_time_out_tells_the_citizen_to_resend_and_dead_letters_the_job(redis, redis_url):
    with start_shots(redis, redis_url, screenshots={"ocr_timeout_s": 0.001}) as shots:
        openid = shots.follower()
        shots.send(openid, ETC_SMS.png)
        shots.run_jobs()

        assert shots.answers(openid) == [LIB.reply("screenshot_timeout")]
        (dead,) = shots.queue.dead_letters()
        assert dead["type"] == "screenshot.read" and "ocr" in dead["reason"]


def test_bad_pictures_each_get_their_own_clear_answer_and_no_dead_letter(shots):
    png = SCAM_CHAT.png
    cases = [
        (b"GIF89a but then nothing an image decoder could use", "screenshot_not_image", {}),
        (png[: len(png) // 2], "screenshot_truncated", {}),
        (render.noise_png(2100, 1700), "screenshot_too_large", {"limit_mb": 10}),
        (render.bomb_png(), "screenshot_too_many_pixels", {}),
    ]
    for data, reply, fields in cases:
        openid = shots.follower()
        assert shots.send(openid, data) == LIB.reply("screenshot_reading")
        shots.run_jobs()
        assert shots.answers(openid) == [LIB.reply(reply, **fields)], reply
    assert shots.queue.dead_letters() == []


def test_media_gone_after_three_days_is_answered_as_expired(shots):
    openid = shots.follower()
    shots.send(openid, b"not even read")
    shots.sbx.advance_clock(3 * 24 * 3600)
    shots.sbx.send_text(openid, "在吗")  # reopens the 48 h window the answer needs

    shots.run_jobs()

    assert shots.answers(openid) == [LIB.reply("screenshot_expired")]


def test_a_busy_media_api_is_retried_and_the_citizen_answered_once(shots):
    openid = shots.follower()
    shots.send(openid, b"plain bytes, no image")
    shots.sbx.set_fault("media/get", "busy")

    shots.run_jobs()
    assert shots.answers(openid) == []
    shots.run_jobs(reclaim=True)
    shots.run_jobs(reclaim=True)

    assert shots.answers(openid) == [LIB.reply("screenshot_not_image")]


def test_a_job_redelivered_after_its_answer_went_out_answers_once(shots):
    from store.streams import process
    from worker.jobs import run_job

    openid = shots.follower()
    shots.send(openid, b"no picture here")
    queue = shots.queue
    queue.ensure_group()
    (job,) = queue.read("crashing-worker", count=1, block_ms=0)
    run_job(job, shots.ctx)  # the answer goes out, then the worker dies before XACK

    process(queue, job, lambda j: run_job(j, shots.ctx))  # redelivered to another worker

    assert shots.answers(openid) == [LIB.reply("screenshot_not_image")]
