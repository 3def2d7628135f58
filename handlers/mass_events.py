"""MASSSENDJOBFINISH: WeChat's delivery totals for one mass send, added to its broadcast run.

errcode 0 from mass/send only means "accepted"; this event, pushed when the job is done, says
how many were in the audience (TotalCount), left after filtering (FilterCount: the monthly cap,
non-followers), delivered (SentCount) and failed (ErrorCount); FilterCount = SentCount +
ErrorCount. https://developers.weixin.qq.com/doc/service/guide/product/message/Batch_Sends.html
The webhook deduplicates by MsgID; the run counts each MsgID once more on its own.
"""

from __future__ import annotations

from typing import Any

from bot.registry import registry
from broadcasts.store import record_finish


@registry.on_event("masssendjobfinish")
def mass_send_finished(msg: Any, ctx: Any) -> None:
    record_finish(ctx.redis, int(msg.id), {
        "status": msg.status, "total_count": msg.total_count, "filter_count": msg.filter_count,
        "sent_count": msg.sent_count, "error_count": msg.error_count,
    })
    return None
