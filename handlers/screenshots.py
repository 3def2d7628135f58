"""A picture sent to the account: a screenshot to check (or, in the 举报 dialog, a clue).

The passive reply says the picture is being read; the worker fetches it with ``media/get``,
reads it and answers with a customer-service message, inside the 48 h window the picture just
opened (https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html).
"""

from __future__ import annotations

from typing import Any

from bot.dialogs import current_dialog
from bot.registry import registry
from handlers.reports import DIALOG as REPORT_DIALOG
from handlers.reports import report_image
from screenshots.jobs import request_reading
from worker.queues import SCREENSHOTS


@registry.on_message("image")
def screenshot(msg: Any, ctx: Any) -> str:
    if current_dialog(ctx, msg.source) == REPORT_DIALOG:
        return report_image(msg, ctx)
    media_id = getattr(msg, "media_id", "") or ""
    if not media_id:
        return str(ctx.reply("screenshot_expired"))
    request_reading(ctx.queue(SCREENSHOTS), msg.source, msg.id, media_id,
                    getattr(msg, "image", "") or "")
    return str(ctx.reply("screenshot_reading"))
