"""Log output as operators read it: JSON lines with ids, and never a phone number, while a
citizen binds a number and is warned about it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from store.streams import DurableQueue, process
from telemetry import logs
from tests.alerts.conftest import alert_body, sign
from tests.registration.conftest import last_code
from worker.jobs import WorkerContext, run_job
from worker.process import load_job_modules
from worker.queues import WARNINGS

PHONE = "13912345678"
# The number as digits in any grouping a formatter might produce.
PHONE_SHAPES = (PHONE, "139 1234 5678", "139-1234-5678", "1234 5678", "12345678")


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    caplog.set_level(logging.DEBUG)
    logs.configure("json", "DEBUG", "web", stream)
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "endfraud", False)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _drain_warnings(config: Any, redis: Any) -> None:
    load_job_modules()
    queue = DurableQueue(redis, WARNINGS, config.queue)
    queue.ensure_group()
    ctx = WorkerContext(config=config, redis=redis)
    while jobs := queue.read("test-worker", count=50, block_ms=0):
        for job in jobs:
            process(queue, job, lambda j: run_job(j, ctx))


def _bind_and_warn(citizen: Any, worker: Any, sbx: Any, client: Any, config: Any,
                   redis: Any) -> None:
    # Known to the simulator too, so the warning template reaches its chat.
    sbx.new_citizen(citizen.openid)
    sbx.follow(citizen.openid)
    citizen.send("绑定")
    citizen.send(PHONE)
    worker.drain()
    citizen.send("000000" if last_code(sbx, PHONE) != "000000" else "111111")  # a wrong code
    assert "绑定成功" in citizen.send(last_code(sbx, PHONE))
    raw, headers = sign(alert_body("log-alert-1", PHONE))
    assert client.post("/api/v1/alerts", data=raw, headers=headers).status_code == 202
    _drain_warnings(config, redis)
    assert sbx.messages(citizen.openid, kind="template"), "the warning did not arrive"
    citizen.send("1")


def test_binding_and_warning_write_json_lines_with_ids_and_no_phone_number(
        json_log, caplog, live_app, citizen, worker, sbx, client, config, redis):
    _bind_and_warn(citizen, worker, sbx, client, config, redis)
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert lines
    for entry in lines:
        assert {"time", "level", "role", "logger", "message"} <= set(entry)
    assert any("request_id" in entry for entry in lines)
    assert any(entry.get("job_id") and entry.get("alert_id") == "log-alert-1" for entry in lines)
    output = json_log.getvalue()
    # What the code itself logs (before the formatter's masking) carries no number either.
    raw_messages = "\n".join(record.getMessage() for record in caplog.records)
    for shape in PHONE_SHAPES:
        assert shape not in output
        assert shape not in raw_messages
    # urllib3 logs the token request's URL at DEBUG: the AppSecret in it is masked.
    assert config.wechat.app_secret in raw_messages
    assert config.wechat.app_secret not in output


def test_text_format_is_the_default_and_masks_a_number_in_an_exception_message():
    from config import ServiceConfig

    assert ServiceConfig().log_format == "text"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.make_formatter("text", "worker"))
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad number %s", (PHONE,), None)
    handler.emit(record)
    assert PHONE not in stream.getvalue() and "139****5678" in stream.getvalue()


def test_json_format_names_the_job_and_alert_bound_in_context():
    formatter = logs.make_formatter("json", "worker")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent", (), None)
    with logs.context(job_id="warn:a1:o1", alert_id="a1"):
        entry = json.loads(formatter.format(record))
    assert entry["role"] == "worker" and entry["job_id"] == "warn:a1:o1"
    assert entry["alert_id"] == "a1" and entry["level"] == "INFO"
    assert "job_id" not in json.loads(formatter.format(record))
