"""Logging set-up shared by every process, so the supervisor can read children's lines.

Two formats: ``text`` (one readable line) and ``json`` (one object per line, for log
shippers): ``ts`` (ISO 8601 with offset), ``level``, ``logger``, ``message``, ``pid``,
``process`` (the role), ``exc`` (the traceback, if any) and any ``extra=`` keys such as
``topic``, ``partition``, ``offset``, ``record_id`` or ``incident_id``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LINE_PATTERN = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.\-\[\]]+): ")
OUR_LOGGERS = (
    "goldentime",
    "dispatch",
    "routing",
    "firemap",
    "video_relay",
    "alerts",
    "console",
    "sensors",
    "simulation",
)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, *, process_name: str | None = None) -> None:
        super().__init__()
        self.process_name = process_name or os.path.basename(sys.argv[0] or "goldentime")

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "process": self.process_name,
        }
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = value if isinstance(value, str | int | float | bool) else str(value)
        return json.dumps(body, ensure_ascii=False)


def setup(level: str = "info", *, fmt: str = "text", process_name: str | None = None) -> None:
    """Configure the root logger once for a Golden Time process."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(process_name=process_name))
    else:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))


def worth_showing(line: str) -> bool:
    """Whether a child's log line belongs on the operator's terminal (the file keeps all)."""
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and "level" in record and "logger" in record:
            if record["level"] in {"WARNING", "ERROR", "CRITICAL"}:
                return True
            return str(record["logger"]).startswith(OUR_LOGGERS)
    match = LINE_PATTERN.match(line)
    if match is None:
        return bool(line.strip()) and not line.startswith((" ", "\t"))
    if match["level"] in {"WARNING", "ERROR", "CRITICAL"}:
        return True
    return match["logger"].startswith(OUR_LOGGERS)
