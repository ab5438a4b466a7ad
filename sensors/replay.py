"""File replay: readings from JSONL (one object a line) or CSV (a header row) to Kafka.

CSV columns: ``sensor_id``, ``value``, ``unit``, ``measured_at`` and optionally ``id``,
``structure_id``, ``kind``; empty cells are left out and ``value`` is parsed as a number when
it is one (otherwise it is refused as non-numeric). A bad line becomes a dead letter naming
the file and line, and the replay carries on.

``shift_to`` moves every timestamp by one offset so the *last* reading lands at that instant
(a recorded scenario becomes recent, never future); ``speed`` paces the replay by event time
(1.0 = as recorded, 60 = a minute a second; ``None`` = as fast as possible).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from goldentime.errors import ContractError
from sensors.errors import ReadingRejectedError, SensorError
from sensors.ingest import Ingestor

CONSUMER = "sensors.replay"


@dataclass(frozen=True, slots=True)
class ReplayReport:
    accepted: int
    rejected: int


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def read_lines(path: Path) -> Iterator[tuple[int, bytes, Any]]:
    """``(line number, raw bytes, parsed object or ReadingRejectedError)`` for each record."""
    if not path.is_file():
        raise SensorError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                data: dict[str, Any] = {
                    k: v.strip() for k, v in row.items() if k and v and v.strip()
                }
                if "value" in data:
                    data["value"] = _number(data["value"])
                yield reader.line_num, orjson.dumps(row), data
        return
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                yield line_no, line, orjson.loads(line)
            except orjson.JSONDecodeError as err:
                yield line_no, line, ReadingRejectedError(f"not JSON: {err}")


def _at(data: Any) -> datetime | None:
    if isinstance(data, dict) and isinstance(data.get("measured_at"), str):
        try:
            parsed = datetime.fromisoformat(data["measured_at"])
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def replay_file(
    path: Path,
    *,
    ingestor: Ingestor,
    shift_to: datetime | None = None,
    speed: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayReport:
    """Publish every good reading of ``path``; dead-letter the others; wait for the broker."""
    if speed is not None and speed <= 0:
        raise SensorError("speed must be positive")
    records = list(read_lines(path))
    times = [t for t in (_at(d) for _, _, d in records) if t is not None]
    offset = shift_to - max(times) if shift_to is not None and times else timedelta(0)
    source = f"file:{path}"
    accepted = rejected = 0
    previous: datetime | None = None
    for line_no, raw, data in records:
        if isinstance(data, ContractError):
            ingestor.dead_letter(raw, reason=f"line {line_no}: {data.reason}", source=source)
            rejected += 1
            continue
        at = _at(data)
        if at is not None:
            if speed is not None and previous is not None and at > previous:
                ingestor.drain()
                sleep((at - previous).total_seconds() / speed)
            previous = at if previous is None or at > previous else previous
            if offset:
                data = data | {"measured_at": (at + offset).isoformat()}
        reading = ingestor.ingest_or_dead_letter(
            raw, data, source=source, where=f"line {line_no}: "
        )
        accepted, rejected = accepted + (reading is not None), rejected + (reading is None)
    ingestor.flush()
    return ReplayReport(accepted=accepted, rejected=rejected)
