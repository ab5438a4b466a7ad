from __future__ import annotations

import json
import logging

from goldentime.logs import JsonFormatter, worth_showing


def test_json_lines_carry_level_logger_extras_and_traceback() -> None:
    formatter = JsonFormatter(process_name="dispatch-1")
    record = logging.makeLogRecord(
        {
            "name": "dispatch.agents",
            "levelname": "WARNING",
            "levelno": logging.WARNING,
            "msg": "dead-lettered %s",
            "args": ("dl-1",),
            "topic": "calls",
            "offset": 7,
        }
    )
    body = json.loads(formatter.format(record))
    assert body["message"] == "dead-lettered dl-1"
    assert (body["level"], body["logger"], body["process"]) == (
        "WARNING",
        "dispatch.agents",
        "dispatch-1",
    )
    assert (body["topic"], body["offset"]) == ("calls", 7)
    assert body["ts"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(formatter.format(record))["exc"]


def test_supervisor_filters_text_and_json_lines_alike() -> None:
    assert worth_showing("2026-11-27 00:00:00,000 INFO dispatch.agents: call c -> INC")
    assert not worth_showing("2026-11-27 00:00:00,000 INFO aiokafka.consumer: joined")
    assert worth_showing("2026-11-27 00:00:00,000 WARNING aiokafka.consumer: lost")
    assert worth_showing(json.dumps({"level": "INFO", "logger": "console.app", "message": "x"}))
    assert not worth_showing(json.dumps({"level": "INFO", "logger": "faust.worker", "message": ""}))
    assert worth_showing(json.dumps({"level": "ERROR", "logger": "faust.worker", "message": ""}))
