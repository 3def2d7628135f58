"""The simulated phone's picture button: a chosen file goes out as an image message, the
passive reply and then the verdict appear in the chat (what the demo README walks through)."""

from __future__ import annotations

from tests.alerts.conftest import start_live
from tests.browser.conftest import shot
from tests.screenshots import render
from tests.screenshots.conftest import Shots


def test_a_picture_chosen_on_the_phone_is_checked_and_the_verdict_shows_in_the_chat(
        page, redis, redis_url, tmp_path):
    text = "【ETC服务】您的ETC已失效，请点击 http://etc-gov.cn.xyz 重新认证"
    sms = render.sms("10690000", [("今天 09:12", text)])
    picture = tmp_path / "sms.png"
    picture.write_bytes(sms.png)
    with start_live(redis, redis_url) as live:
        shots = Shots(live.config, redis, live.sbx, live.ctx)
        openid = shots.follower()
        page.goto(f"{live.sbx.base_url}sandbox/phone/{openid}")

        page.click("#btn-pic")
        page.set_input_files("#pic-input", str(picture))

        page.wait_for_selector("img.pic")
        page.wait_for_selector("text=正在识别图片")
        shots.wait_for(lambda: shots.run_jobs())
        page.wait_for_selector("text=截图内容高度疑似诈骗")
        shot(page, "phone-picture-verdict")
