"""The durable job a screenshot becomes (run by ``worker/screenshot_jobs.py``).

Payload: ``openid``, ``media_id``, ``pic_url`` and, for a picture sent in the 举报 dialog,
``clue_id`` (the text then goes to that clue; the citizen already has the receipt). The job id
is the sender and MsgId, so WeChat's retries of one message enqueue one job.
"""

from __future__ import annotations

from typing import Any

from store.streams import DurableQueue

READ_JOB = "screenshot.read"


def job_id(openid: str, msg_id: Any) -> str:
    return f"{openid}:{msg_id}"


def request_reading(queue: DurableQueue, openid: str, msg_id: Any, media_id: str,
                    pic_url: str = "", clue_id: str = "") -> bool:
    """Queue the screenshot; False when this message was queued already."""
    payload = {"openid": openid, "media_id": media_id, "pic_url": pic_url}
    if clue_id:
        payload["clue_id"] = clue_id
    return queue.enqueue(READ_JOB, payload, job_id=job_id(openid, msg_id))
