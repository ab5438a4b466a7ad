"""Logging set-up shared by every process, so the supervisor can read children's lines."""

from __future__ import annotations

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LINE_PATTERN = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.\-\[\]]+): ")
OUR_LOGGERS = ("goldentime", "dispatch", "routing", "firemap", "video_relay", "alerts", "console")


def setup(level: str = "info") -> None:
    """Configure the root logger once for a Golden Time process."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT, force=True)
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))


def worth_showing(line: str) -> bool:
    """Whether a child's log line belongs on the operator's terminal (the file keeps all)."""
    match = LINE_PATTERN.match(line)
    if match is None:
        return bool(line.strip()) and not line.startswith((" ", "\t"))
    if match["level"] in {"WARNING", "ERROR", "CRITICAL"}:
        return True
    return match["logger"].startswith(OUR_LOGGERS)
