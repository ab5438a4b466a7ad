"""Fuzzing: >= 10,000 malformed records on every input topic and every state-changing endpoint.

Topic records (``calls``, ``video.events``, ``sensor.readings``, ``commands``) must each come
back as exactly one dead letter with a reason; HTTP bodies must each be refused with 422 and a
``detail``. At the end every worker is alive (no restart) and nothing was stored.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from fuzz_corpus import GARBAGE, draw, mutations, refused
from hypothesis import strategies as st
from kafka import KafkaProducer
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select

from console.app import CallRequest
from console.commands import DispatchBody, MergeBody, NoteBody, PositionBody, StatusBody
from dispatch.incident_store import CallRow, CommandRow, IncidentRow, SignalRow
from goldentime import topics
from goldentime.contracts import Call, Record, decode
from goldentime.contracts.dispatch import Command
from goldentime.contracts.sensors import SensorReading
from goldentime.contracts.video import VideoEvent
from goldentime.db import make_engine
from goldentime.errors import ContractError
from ops.consistency import DeadLetterReader, bad_key, reason_class
from sensors.registry import load_registry

pytestmark = pytest.mark.fuzz

PER_TOPIC = 2500
PER_ENDPOINT = 320
STAMP = "2025-03-01T09:00:00+09:00"
SETTLE_TIMEOUT_S = 90.0
# 422: the body breaks the model; 400: FastAPI cannot even decode it (not UTF-8); 404: no such
# route. Each comes with a `detail`. A 2xx would mean a malformed body was taken.
REFUSED = (400, 404, 422)

CALL = {"id": "fz-c1", "received_at": STAMP, "lat": 37.56, "lon": 126.98, "type": "fire",
        "caller": "010-0000-0000", "description": "fuzz", "source": "api"}  # fmt: skip
VIDEO = {"id": "fz-ep:1", "episode_id": "fz-ep", "revision": 1, "detected_at": STAMP,
         "started_at": STAMP, "camera_id": "fz-cam", "lat": 37.56, "lon": 126.98,
         "event_type": "fire", "phase": "new", "confidence": 0.9}  # fmt: skip
COMMANDS = [
    {"id": "fz-k1", "at": STAMP, "actor": "fuzz", "action": "dispatch", "incident_id": "INC-1"},
    {"id": "fz-k2", "at": STAMP, "actor": "fuzz", "action": "unit_status",
     "unit_ids": ["U-1"], "unit_status": "en_route"},
    {"id": "fz-k3", "at": STAMP, "actor": "fuzz", "action": "position", "unit_ids": ["U-1"],
     "lat": 37.5, "lon": 127.0},
    {"id": "fz-k4", "at": STAMP, "actor": "fuzz", "action": "merge", "incident_id": "INC-1",
     "into_incident_id": "INC-2"},
]  # fmt: skip
ENDPOINTS: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    ("/api/calls", CallRequest, {"lat": 37.56, "lon": 126.98, "type": "fire"}),
    ("/api/incidents/INC-FUZZ/dispatch", DispatchBody, {"unit_ids": ["U-1"]}),
    ("/api/incidents/INC-FUZZ/close", NoteBody, {"note": "fuzz"}),
    ("/api/incidents/INC-FUZZ/merge", MergeBody, {"into_incident_id": "INC-OTHER"}),
    ("/api/calls/CALL-FUZZ/unlink", NoteBody, {"note": "fuzz"}),
    ("/api/units/U-FUZZ/status", StatusBody, {"status": "en_route", "lat": 37.5, "lon": 127.0}),
    ("/api/units/U-FUZZ/position", PositionBody, {"lat": 37.5, "lon": 127.0}),
    ("/api/units/U-FUZZ/acknowledge", NoteBody, {"note": "fuzz"}),
]


def contract_accepts(model: type[Record]) -> Any:
    def accepts(raw: bytes) -> bool:
        try:
            decode(model, raw)
        except ContractError:
            return False
        return True

    return accepts


def reading_accepts(raw: bytes) -> bool:
    """Single-reading messages only: an array is one message but one dead letter per item."""
    return raw.lstrip()[:1] == b"[" or contract_accepts(SensorReading)(raw)


def body_accepts(model: type[BaseModel]) -> Any:
    """What FastAPI does with a JSON body: parse with ``json``, validate in Python mode."""

    def accepts(raw: bytes) -> bool:
        try:
            model.model_validate(json.loads(raw))
        except (ValueError, ValidationError, RecursionError):
            return False
        return True

    return accepts


def topic_corpus(sensor_template: dict[str, Any]) -> dict[str, list[bytes]]:
    half = PER_TOPIC // 2
    return {
        topics.CALLS.name: refused(
            draw(mutations(CALL), half, seed_value=1) + draw(GARBAGE, half, seed_value=2),
            contract_accepts(Call),
        ),
        topics.VIDEO_EVENTS.name: refused(
            draw(mutations(VIDEO), half, seed_value=3) + draw(GARBAGE, half, seed_value=4),
            contract_accepts(VideoEvent),
        ),
        topics.SENSOR_READINGS.name: refused(
            draw(mutations(sensor_template), half, seed_value=5)
            + draw(GARBAGE, half, seed_value=6),
            reading_accepts,
        ),
        topics.COMMANDS.name: refused(
            draw(st.sampled_from(COMMANDS).flatmap(mutations), half, seed_value=7)
            + draw(GARBAGE, half, seed_value=8),
            contract_accepts(Command),
        ),
    }


def http_corpus() -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for n, (path, model, template) in enumerate(ENDPOINTS):
        values = draw(mutations(template), PER_ENDPOINT * 2 // 3, seed_value=100 + n)
        values += draw(GARBAGE, PER_ENDPOINT // 3, seed_value=200 + n)
        out[path] = refused(values, body_accepts(model))
    return out


def stored_rows(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                table.__tablename__: int(
                    conn.execute(select(func.count()).select_from(table)).scalar_one()
                )
                for table in (CallRow, IncidentRow, SignalRow, CommandRow)
            }
    finally:
        engine.dispose()


def test_every_malformed_input_is_refused_with_a_reason(fuzz_system: Any) -> None:
    system = fuzz_system
    spec = next(iter(load_registry(system.settings.data.seoul_dir).sensors()))
    sensor_template = {"id": "fz-r1", "structure_id": spec.structure_id,
                       "sensor_id": spec.sensor_id, "kind": spec.kind.value, "value": 1.0,
                       "unit": spec.unit, "measured_at": STAMP}  # fmt: skip
    started = time.monotonic()
    records = topic_corpus(sensor_template)
    bodies = http_corpus()
    generated_s = time.monotonic() - started

    reader = DeadLetterReader(system.bootstrap, prefix="fuzz")
    producer = KafkaProducer(bootstrap_servers=system.bootstrap, acks="all", linger_ms=20)
    index = 0
    sent_by_topic: Counter[str] = Counter()
    for topic, values in records.items():
        for value in values:
            producer.send(topic, key=bad_key("fuzz", index), value=value)
            index += 1
            sent_by_topic[topic] += 1
    producer.flush(timeout=60)
    producer.close()
    sent = index

    statuses: Counter[int] = Counter()
    refusals: list[str] = []
    with httpx.Client(base_url=system.url, timeout=10.0) as client:
        for path, values in bodies.items():
            for body in values:
                response = client.post(
                    path, content=body, headers={"content-type": "application/json"}
                )
                statuses[response.status_code] += 1
                detail = response.json().get("detail") if response.status_code < 500 else None
                if response.status_code not in REFUSED or not detail:
                    refusals.append(f"{path} {body[:120]!r} -> {response.status_code}")
            system.tick()
    http_sent = sum(statuses.values())

    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while reader.poll(timeout_s=0.5) < sent and time.monotonic() < deadline:
        system.tick()
    reader.poll(timeout_s=1.0)
    letters = list(reader.letters.values())
    reader.close()

    reasons = Counter(f"{d.source_topic}: {reason_class(d.reason)}" for d in letters)
    by_topic = Counter(d.source_topic for d in letters)
    summary = {
        "topic_records": sent,
        "by_topic": dict(sent_by_topic),
        "http_requests": http_sent,
        "http_statuses": dict(statuses),
        "rejected": len(letters) + sum(statuses[c] for c in REFUSED),
        "dead_letters": len(letters),
        "top_reasons": reasons.most_common(8),
        "generate_s": round(generated_s, 1),
        "total_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))

    assert sent + http_sent >= 10_000
    assert all(n >= 1500 for n in sent_by_topic.values()), sent_by_topic
    assert all(len(values) >= 200 for values in bodies.values())
    assert not refusals, refusals[:10]
    assert dict(by_topic) == dict(sent_by_topic)  # one dead letter per record, none lost
    assert all(d.reason.strip() for d in letters)
    assert {d.key for d in letters} == {bad_key("fuzz", i).decode() for i in range(sent)}
    for name in ("dispatch-1", "sensors", "console"):
        assert system.supervisor.restarts(name) == 0, f"{name} was restarted"
        assert name in system.supervisor.pids(), f"{name} is not running"
    assert stored_rows(system.settings.effective_database_url) == {
        "calls": 0,
        "incidents": 0,
        "incident_signals": 0,
        "commands": 0,
    }
