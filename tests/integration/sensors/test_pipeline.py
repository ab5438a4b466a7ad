"""Real mosquitto -> bridge -> Kafka, and the real agent turning readings into alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from gt_testing import read_topic
from kafka import KafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from goldentime.broker.clients import kafka_publisher
from goldentime.broker.publisher import BlockingPublisher
from goldentime.clock import SystemClock
from goldentime.settings import Settings
from sensors.ingest import Ingestor
from sensors.mqtt import MqttBridge, topic_for
from sensors.replay import replay_file
from sensors.scenario import SHIPPED

pytestmark = pytest.mark.integration


def values(records: list[Any]) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records]


def test_mqtt_readings_reach_kafka_and_bad_ones_are_dead_lettered(
    mosquitto_port: int, ingestor: Ingestor, settings: Settings
) -> None:
    bridge = MqttBridge(ingestor=ingestor, host="127.0.0.1", port=mosquitto_port).start()
    sender = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="it-sender")
    sender.connect("127.0.0.1", mosquitto_port)
    sender.loop_start()
    now = datetime.now(UTC)
    try:
        for i in range(3):
            payload = {
                "value": 3.0 + i,
                "unit": "gal",
                "measured_at": (now - timedelta(seconds=i)).isoformat(),
            }
            sender.publish(
                topic_for("han-hangang", "han-hangang.acc1"), orjson.dumps(payload), qos=1
            ).wait_for_publish(5)
        bad = {"value": 1.0, "unit": "gal", "measured_at": now.isoformat()}
        sender.publish(
            topic_for("han-hangang", "han-hangang.acc7"), orjson.dumps(bad), qos=1
        ).wait_for_publish(5)
        sender.publish(
            topic_for("han-hangang", "han-hangang.acc1"), b"{broken", qos=1
        ).wait_for_publish(5)
        ours = lambda recs: [v for v in values(recs) if v.get("sensor_id") == "han-hangang.acc1"]  # noqa: E731
        readings = ours(
            read_topic(
                settings.broker.bootstrap(), "sensor.readings", until=lambda r: len(ours(r)) >= 3
            )
        )
        mqtt_letters = lambda recs: [v for v in values(recs) if v["consumer"] == "sensors.test"]  # noqa: E731
        letters = mqtt_letters(
            read_topic(
                settings.broker.bootstrap(), "deadletter", until=lambda r: len(mqtt_letters(r)) >= 2
            )
        )
    finally:
        sender.loop_stop()
        sender.disconnect()
        bridge.stop()
    assert sorted(r["value"] for r in readings) == [3.0, 4.0, 5.0]
    assert all(
        r["structure_id"] == "han-hangang" and r["id"].startswith("han-hangang.acc1:")
        for r in readings
    )
    reasons = sorted(letter["reason"] for letter in letters)
    assert "unknown sensor 'han-hangang.acc7'" in reasons[1] and "not JSON" in reasons[0]
    assert {letter["source_topic"] for letter in letters} == {
        "mqtt:goldentime/sensors/han-hangang/han-hangang.acc7",
        "mqtt:goldentime/sensors/han-hangang/han-hangang.acc1",
    }


def test_agent_turns_the_jamsu_flood_into_alarms_and_dead_letters_bad_records(
    worker: Path, ingestor: Ingestor, settings: Settings
) -> None:
    publisher = BlockingPublisher(kafka_publisher(settings, client_id="it-replay"))
    packing = Ingestor(
        validator=ingestor.validator,
        publisher=publisher,
        consumer="it",
        clock=SystemClock(),
        pack=50,
    )
    try:
        report = replay_file(SHIPPED, ingestor=packing, shift_to=datetime.now(UTC))
    finally:
        publisher.close()
    assert report.rejected == 1  # the reading in centimetres, refused at ingest
    producer = KafkaProducer(bootstrap_servers=settings.broker.bootstrap())
    producer.send("sensor.readings", key=b"han-jamsu", value=b"not a reading")
    producer.send("sensor.readings", key=b"han-jamsu", value=orjson.dumps({"id": "x"}))
    producer.flush(10)
    producer.close()

    def critical(recs: list[Any]) -> bool:
        return any(v["level"] == "critical" for v in values(recs))

    alarms = values(
        read_topic(settings.broker.bootstrap(), "sensor.alarms", until=critical, timeout_s=60)
    )
    assert critical_seen(alarms), f"no critical alarm; worker log: {worker.read_text()[-2000:]}"
    level_changes = [
        (a["previous_level"], a["level"])
        for a in alarms
        if a["sensor_id"] == "han-jamsu.wl1" and a["rule"] == "level"
    ]
    assert level_changes == [("clear", "watch"), ("watch", "warning"), ("warning", "critical")]
    assert alarms[-1]["structure_level"] == "critical"
    faults = [a for a in alarms if a["fault"]]
    assert [(a["sensor_id"], a["fault_kind"]) for a in faults] == [("han-jamsu.wl2", "flatline")]
    assert all(a["level"] != "critical" for a in alarms if a["sensor_id"] == "han-jamsu.wl2")

    agent_letters = lambda recs: [v for v in values(recs) if v["consumer"] == "sensors.rules"]  # noqa: E731
    letters = agent_letters(
        read_topic(
            settings.broker.bootstrap(), "deadletter", until=lambda r: len(agent_letters(r)) >= 2
        )
    )
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons[0].startswith("invalid SensorReading") and reasons[1].startswith("not JSON")
    assert all(
        letter["source_topic"] == "sensor.readings" and letter["offset"] is not None
        for letter in letters
    )


def critical_seen(alarms: list[dict[str, Any]]) -> bool:
    return any(a["level"] == "critical" and not a["fault"] for a in alarms)
