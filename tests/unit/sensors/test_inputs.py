"""MQTT message parsing, file replay with dead letters, and the shipped demo scenario."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from goldentime.broker.publisher import InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.errors import ContractError
from sensors.errors import ReadingRejectedError
from sensors.ingest import Ingestor
from sensors.mqtt import parse_message, topic_for
from sensors.replay import replay_file
from sensors.scenario import (
    SAJIK_SHIPPED,
    SHIPPED,
    generate_jamsu_flood,
    generate_sajik_tunnel_fire,
)


def on(publisher: InMemoryPublisher, topic: str) -> list[Any]:
    return [orjson.loads(value) for _key, value in publisher.messages(topic)]


def test_mqtt_topic_fills_the_ids() -> None:
    topic = topic_for("han-jamsu", "han-jamsu.wl1")
    data = parse_message(topic, b'{"value": 5.0, "unit": "m", "measured_at": "x"}')
    assert data["structure_id"] == "han-jamsu" and data["sensor_id"] == "han-jamsu.wl1"


@pytest.mark.parametrize(
    ("topic", "payload", "match"),
    [
        ("goldentime/sensors/han-jamsu", b"{}", "is not goldentime/sensors/"),
        ("other/han-jamsu/han-jamsu.wl1", b"{}", "is not goldentime/sensors/"),
        ("goldentime/sensors/han-jamsu/han-jamsu.wl1", b"{oops", "not JSON"),
        ("goldentime/sensors/han-jamsu/han-jamsu.wl1", b"[1]", "JSON object"),
        ("goldentime/sensors/han-jamsu/han-jamsu.wl1", b'{"sensor_id": "x"}', "disagrees"),
    ],
)
def test_mqtt_bad_messages(topic: str, payload: bytes, match: str) -> None:
    with pytest.raises(ReadingRejectedError, match=match):
        parse_message(topic, payload)


def test_replay_jsonl_dead_letters_bad_lines_and_goes_on(
    tmp_path: Path, ingestor: Ingestor, publisher: Any, clock: ManualClock
) -> None:
    at = (clock.now() - timedelta(minutes=1)).isoformat()
    lines = [
        orjson.dumps({"sensor_id": "han-jamsu.wl1", "value": 4.0, "unit": "m", "measured_at": at}),
        b"not json",
        orjson.dumps({"sensor_id": "ghost.wl1", "value": 4.0, "unit": "m", "measured_at": at}),
        b"",
        orjson.dumps(
            {"sensor_id": "han-jamsu.wind1", "value": 3.0, "unit": "m/s", "measured_at": at}
        ),
    ]
    path = tmp_path / "r.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = replay_file(path, ingestor=ingestor)
    assert (report.accepted, report.rejected) == (2, 2)
    letters = on(publisher, "deadletter")
    assert [dl["reason"].split(":")[0] for dl in letters] == ["line 2", "line 3"]
    assert "unknown sensor 'ghost.wl1'" in letters[1]["reason"]
    assert letters[1]["source_topic"] == f"file:{path}" and letters[1]["payload"].startswith("{")


def test_replay_csv_with_non_numeric_value(
    tmp_path: Path, ingestor: Ingestor, publisher: Any, clock: ManualClock
) -> None:
    at = (clock.now() - timedelta(minutes=1)).isoformat()
    path = tmp_path / "r.csv"
    path.write_text(
        "sensor_id,value,unit,measured_at\n"
        f"tn-sajik.co1,12.5,ppm,{at}\n"
        f"tn-sajik.co1,lots,ppm,{at}\n",
        encoding="utf-8",
    )
    report = replay_file(path, ingestor=ingestor)
    assert (report.accepted, report.rejected) == (1, 1)
    assert on(publisher, "sensor.readings")[0]["value"] == 12.5
    assert "line 3: invalid SensorReading: value" in on(publisher, "deadletter")[0]["reason"]


def test_replay_shifted_to_now_is_never_in_the_future(
    ingestor: Ingestor, publisher: Any, clock: ManualClock
) -> None:
    slept: list[float] = []
    report = replay_file(
        SHIPPED, ingestor=ingestor, shift_to=clock.now(), speed=600.0, sleep=slept.append
    )
    assert report.rejected == 1  # the one reading in centimetres
    times = [r["measured_at"] for r in on(publisher, "sensor.readings")]
    assert max(times) <= clock.now().isoformat()
    assert sum(slept) == pytest.approx(209 * 60 / 600, rel=0.01)


def test_shipped_scenarios_are_current() -> None:
    for path, generate in (
        (SHIPPED, generate_jamsu_flood),
        (SAJIK_SHIPPED, generate_sajik_tunnel_fire),
    ):
        shipped = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        assert shipped == generate(), f"{path.name} differs from its generator"


def test_packed_messages_round_trip_and_bad_items_stand_alone(
    ingestor: Any, publisher: Any, blocking: Any, clock: ManualClock, reading: Any
) -> None:
    from sensors.agents import BadItem, decode_message
    from sensors.ingest import Ingestor

    packing = Ingestor(
        validator=ingestor.validator, publisher=blocking, consumer="t", clock=clock, pack=3
    )
    at = clock.now() - timedelta(minutes=5)
    items = [
        {"sensor_id": "han-jamsu.wl1", "value": 4.0 + i / 100, "unit": "m",
         "measured_at": (at + timedelta(seconds=i)).isoformat()}
        for i in range(4)
    ]  # fmt: skip
    result = packing.ingest_batch(items)
    messages = [v for _k, v in publisher.messages("sensor.readings")]
    assert len(result.accepted_ids) == 4 and len(messages) == 2  # a pack of 3, then the rest
    decoded = [r for m in messages for r in decode_message(m)]
    assert [r.id for r in decoded if not isinstance(r, BadItem)] == result.accepted_ids
    array = orjson.loads(messages[0])
    array[1]["value"] = "high"
    mixed = decode_message(orjson.dumps(array))
    assert isinstance(mixed[1], BadItem) and mixed[1].reason.startswith("item 1: invalid")
    assert [type(x).__name__ for x in mixed] == ["SensorReading", "BadItem", "SensorReading"]
    with pytest.raises(ContractError, match="0 readings in one message"):
        decode_message(b"[]")


def test_records_wait_for_a_drain_or_go_when_too_many_wait(
    ingestor: Ingestor, publisher: InMemoryPublisher, blocking: Any, clock: ManualClock
) -> None:
    from sensors.errors import PublishError

    small = Ingestor(
        validator=ingestor.validator, publisher=blocking, consumer="t", clock=clock, max_waiting=3
    )
    at = clock.now() - timedelta(minutes=5)

    def item(i: int) -> dict[str, Any]:
        measured = (at + timedelta(seconds=i)).isoformat()
        return {"sensor_id": "han-jamsu.wl1", "value": 4.0, "unit": "m", "measured_at": measured}

    for i in range(2):
        small.ingest_or_dead_letter(b"{}", item(i), source="test")
    assert publisher.records == []  # waiting for a drain
    small.dead_letter(b"x", reason="bad", source="test")  # the third waiting: all go now
    assert len(publisher.messages("sensor.readings")) == 2
    assert len(publisher.messages("deadletter")) == 1
    small.ingest_or_dead_letter(b"{}", item(3), source="test")
    publisher.fail_next()
    with pytest.raises(PublishError, match="not acknowledged"):
        small.drain()
    small.drain()  # what failed is not kept: the caller retries with the same reading ids
    assert len(publisher.messages("sensor.readings")) == 2
