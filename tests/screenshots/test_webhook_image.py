"""The official image-message sample through the real webhook: answered at once, queued once."""

from __future__ import annotations

import json

from content.library import load_library
from store.streams import DurableQueue
from tests import wx
from worker.queues import SCREENSHOTS

# Official doc sample, 接收普通消息 · 图片消息
# (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html),
# verbatim but for whitespace: MsgDataId/Idx are only set for messages sent from an article.
DOC_IMAGE_MESSAGE = (
    "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
    "<FromUserName><![CDATA[fromUser]]></FromUserName>"
    "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType>"
    "<PicUrl><![CDATA[this is a url]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId>"
    "<MsgId>1234567890123456</MsgId><MsgDataId>xxxx</MsgDataId><Idx>xxxx</Idx></xml>")


def _jobs(redis):
    return [json.loads(fields["payload"])
            for _, fields in redis.xrange(DurableQueue(redis, SCREENSHOTS).stream)]


def test_the_doc_sample_image_message_is_answered_at_once_and_queued(client, config, redis):
    response = wx.post(client, config, DOC_IMAGE_MESSAGE)

    assert response.status_code == 200
    assert wx.reply_text(config, response) == load_library().reply("screenshot_reading")
    assert _jobs(redis) == [{"openid": "fromUser", "media_id": "media_id",
                             "pic_url": "this is a url"}]


def test_wechats_retries_of_one_picture_queue_one_job(client, config, redis):
    for _ in range(3):
        assert wx.post(client, config, DOC_IMAGE_MESSAGE).status_code == 200

    assert len(_jobs(redis)) == 1
