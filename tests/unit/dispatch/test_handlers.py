"""The per-topic dispatch handlers, called directly: a database, no broker."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord
from gt_testing import run_coroutine

from dispatch.catalog import load_catalog
from dispatch.context import DispatchContext
from dispatch.handlers import consuming, handle_calls, handle_commands, handle_video_events
from dispatch.incident_store import list_incidents
from dispatch.pipeline import Pipeline
from goldentime import topics
from goldentime.broker.publisher import InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.contracts import Call, Incident, encode
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.contracts.video import VideoEvent
from goldentime.db import create_schema, make_engine, session_factory, writer
from goldentime.metrics import Metrics

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def values(publisher: InMemoryPublisher, spec: topics.TopicSpec) -> list[dict[str, Any]]:
    return [orjson.loads(value) for _key, value in publisher.messages(spec)]


@pytest.fixture
def publisher() -> InMemoryPublisher:
    return InMemoryPublisher()


@pytest.fixture
def pipeline(tmp_path: Path, publisher: InMemoryPublisher) -> Iterator[Pipeline]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    none: Any = None  # the road network, fleet and hospitals: not used by these handlers
    with ThreadPoolExecutor(max_workers=1) as executor:
        ctx = DispatchContext(
            sessions=session_factory(engine),
            writers=session_factory(writer(engine)),
            clock=ManualClock(NOW),
            consumer_name="test-worker",
            executor=executor,
            catalog=load_catalog(),
            network=none,
            fleet=[],
            hospitals=[],
            locate_gu=lambda lat, lon: "종로구",
            calls_consumer=none,
            publisher=publisher,
        )
        yield Pipeline(ctx, metrics=Metrics(), mci=none, alarms=none)


def call(id_: str, *, lat: float = 37.5665, seconds: int = 0) -> Call:
    return Call(
        id=id_,
        received_at=NOW - timedelta(minutes=1) + timedelta(seconds=seconds),
        lat=lat,
        lon=126.978,
        type="building_fire",
        description="3층 상가 건물 연기",
    )


def raw(topic: str, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=(),
    )


def incidents(p: Pipeline) -> list[Incident]:
    with p.ctx.sessions() as session:
        return list(list_incidents(session))


def test_calls_are_stored_first_and_published_by_the_second_phase(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    async def run() -> None:
        finish = await handle_calls(pipeline, [call("c-1"), call("c-2", seconds=20)])
        assert len(incidents(pipeline)) == 1  # two callers, one incident, stored
        assert publisher.records == []  # nothing published before the second phase
        await finish()

    run_coroutine(run)
    (incident,) = values(publisher, topics.INCIDENTS)
    assert sorted(incident["call_ids"]) == ["c-1", "c-2"]
    assert values(publisher, topics.TIMELINE)
    assert pipeline.wake_queue.get_nowait() == incident["id"]  # the recommender is woken


def test_a_redelivered_call_batch_changes_nothing(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    async def run() -> None:
        for _ in range(2):
            await (await handle_calls(pipeline, [call("c-1")]))()

    run_coroutine(run)
    assert len(incidents(pipeline)) == 1
    first, again = values(publisher, topics.INCIDENTS)
    assert first["id"] == again["id"] and first["call_ids"] == again["call_ids"] == ["c-1"]


def test_video_events_that_are_not_signals_open_nothing(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    def event(id_: str, event_type: str) -> VideoEvent:
        return VideoEvent.model_validate(
            {
                "id": f"{id_}:1",
                "episode_id": id_,
                "revision": 1,
                "detected_at": NOW,
                "started_at": NOW - timedelta(seconds=2),
                "camera_id": "cam-1",
                "lat": 37.571,
                "lon": 126.992,
                "event_type": event_type,
                "phase": "new",
                "confidence": 0.8,
            }
        )

    async def run() -> None:
        await (await handle_video_events(pipeline, [event("ep-1", "offline")]))()
        assert incidents(pipeline) == [] and values(publisher, topics.INCIDENTS) == []
        await (await handle_video_events(pipeline, [event("ep-2", "fire")]))()

    run_coroutine(run)
    (incident,) = values(publisher, topics.INCIDENTS)  # the fire opened one
    assert [row.id for row in incidents(pipeline)] == [incident["id"]]


def test_commands_are_applied_in_order_in_the_second_phase(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    async def run() -> str:
        await (await handle_calls(pipeline, [call("c-1")]))()
        incident_id = incidents(pipeline)[0].id
        close = Command(
            id="cmd-1", at=NOW, actor="disp", action=CommandAction.CLOSE, incident_id=incident_id
        )
        again = close.model_copy(update={"id": "cmd-2"})  # refused: closed already
        finish = await handle_commands(pipeline, [close, again])
        assert incidents(pipeline)[0].status == "open"  # nothing applied before phase two
        await finish()
        return incident_id

    incident_id = run_coroutine(run)
    assert incidents(pipeline)[0].status == "closed"
    closed = [i for i in values(publisher, topics.INCIDENTS) if i["id"] == incident_id]
    assert closed[-1]["status"] == "closed"


def test_undecodable_records_are_dead_lettered_with_the_reason_and_the_rest_handled(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    on_batch = consuming(pipeline, Call, handle_calls, noun="call")
    records = [
        raw(topics.CALLS.name, 0, b"{not json"),
        raw(topics.CALLS.name, 1, encode(call("c-1"))),
    ]

    async def run() -> None:
        await (await on_batch(records))()

    run_coroutine(run)
    (letter,) = values(publisher, topics.DEADLETTER)
    assert letter["source_topic"] == topics.CALLS.name and letter["offset"] == 0
    assert letter["reason"]
    (incident,) = values(publisher, topics.INCIDENTS)
    assert incident["call_ids"] == ["c-1"]


def test_a_batch_that_keeps_failing_is_dead_lettered_not_lost_silently(
    pipeline: Pipeline, publisher: InMemoryPublisher
) -> None:
    async def broken(p: Pipeline, calls: Sequence[Call]) -> Any:
        raise RuntimeError("boom")

    on_batch = consuming(pipeline, Call, broken, noun="call")
    records = [raw(topics.CALLS.name, 7, encode(call("c-1")))]

    async def run() -> None:
        await (await on_batch(records))()

    run_coroutine(run)
    (letter,) = values(publisher, topics.DEADLETTER)
    assert "RuntimeError: boom" in letter["reason"] and letter["offset"] == 7
    assert values(publisher, topics.INCIDENTS) == []
