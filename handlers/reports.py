"""举报: a number, link, text or screenshot becomes a clue for staff review, with a receipt.

"举报 <content>" reports at once; "举报" alone or the 我要举报 menu opens a short dialog whose next
message (text or image) is the clue. Images carry PicUrl and MediaId
(https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html);
an image clue's text is read by the screenshot worker and added to the clue
(``handlers/screenshots.py`` routes images here while the dialog is open).
"""

from __future__ import annotations

from typing import Any

from bot.dialogs import end_dialog, end_dialog_named, start_dialog
from bot.registry import registry
from intel import reports
from intel.scamcheck import check_text, extract_links, extract_numbers
from screenshots.jobs import request_reading
from worker.queues import SCREENSHOTS

DIALOG = "report"
DIALOG_TIMEOUT_S = 300


def candidates(text: str) -> list[str]:
    return extract_numbers(text) + extract_links(text)


def file_report(msg: Any, ctx: Any, report: reports.Report, receipt: str = "report_receipt") -> str:
    if not reports.may_report(ctx.redis, msg.source, ctx.now()):
        return ctx.reply("report_limit", limit=reports.MAX_REPORTS_PER_DAY)
    clue_id = reports.create_clue(ctx.redis, ctx.config, msg.source, report, ctx.now())
    return ctx.reply(receipt, clue_id=clue_id)


def report_text(msg: Any, ctx: Any, text: str) -> str:
    result = check_text(text, ctx.library)
    report = reports.report_from_text(text, candidates, suggested_type=result.fraud_type or "")
    return file_report(msg, ctx, report)


def ask_clue(msg: Any, ctx: Any) -> str:
    start_dialog(ctx, msg.source, DIALOG, timeout_s=DIALOG_TIMEOUT_S)
    return ctx.reply("report_ask")


registry.on_menu("REPORT")(ask_clue)


@registry.on_text(r"(?s)^(?:我要)?举报\s*[:：]?\s*(.*)$")
def report_command(msg: Any, ctx: Any) -> str:
    text = msg.content.strip()
    text = text[text.index("举报") + 2:].lstrip(" :：\n")
    if not text:
        return ask_clue(msg, ctx)
    end_dialog_named(ctx, msg.source, DIALOG)  # "举报" then "举报 <clue>": filed now
    return report_text(msg, ctx, text)


@registry.on_dialog(DIALOG)
def report_in_dialog(msg: Any, ctx: Any) -> str:
    end_dialog(ctx, msg.source)
    return report_text(msg, ctx, msg.content)


def report_image(msg: Any, ctx: Any) -> str:
    """A screenshot sent in the report dialog: an image clue now, its recognised text later."""
    end_dialog(ctx, msg.source)
    if not reports.may_report(ctx.redis, msg.source, ctx.now()):
        return ctx.reply("report_limit", limit=reports.MAX_REPORTS_PER_DAY)
    media_id = getattr(msg, "media_id", "") or ""
    pic_url = getattr(msg, "image", "") or ""
    clue_id = reports.create_clue(ctx.redis, ctx.config, msg.source,
                                  reports.report_from_image(pic_url, media_id), ctx.now())
    if media_id:
        request_reading(ctx.queue(SCREENSHOTS), msg.source, msg.id, media_id, pic_url,
                        clue_id=clue_id)
    return ctx.reply("report_receipt", clue_id=clue_id)
