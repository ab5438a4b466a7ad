"""POST /api/sensors/readings through a TestClient, with the in-memory publisher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from goldentime.broker.publisher import InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.contracts.sensors import SensorReading
from sensors.api import readings_router
from sensors.ingest import Ingestor


@pytest.fixture
def client(ingestor: Ingestor) -> TestClient:
    app = FastAPI()
    app.include_router(readings_router(ingestor=ingestor))
    return TestClient(app)


def body(clock: ManualClock, **changes: Any) -> dict[str, Any]:
    good = {
        "sensor_id": "han-jamsu.wl1",
        "value": 5.1,
        "unit": "m",
        "measured_at": (clock.now() - timedelta(seconds=10)).isoformat(),
    }
    return good | changes


def test_valid_batch_is_published_and_acknowledged(
    client: TestClient, clock: ManualClock, publisher: InMemoryPublisher
) -> None:
    response = client.post(
        "/api/sensors/readings", json=[body(clock), body(clock, value=5.2, id="r-2")]
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 2
    sent = publisher.decoded("sensor.readings", SensorReading)
    assert [r.structure_id for r in sent] == ["han-jamsu", "han-jamsu"]  # filled from the sensor
    assert sent[0].id.startswith("han-jamsu.wl1:") and sent[1].id == "r-2"
    assert publisher.calls == 1  # one publish, acknowledged before the answer


def test_bad_readings_are_named_by_index_and_the_good_ones_published(
    client: TestClient, clock: ManualClock, publisher: InMemoryPublisher
) -> None:
    batch = [
        body(clock),
        body(clock, sensor_id="han-jamsu.wl9"),
        body(clock, unit="cm"),
        body(clock, value="high"),
        body(clock, measured_at=(clock.now() + timedelta(minutes=5)).isoformat()),
        body(clock, structure_id="han-hangang"),
        body(clock, value=5.3, id="ok-2"),
    ]
    response = client.post("/api/sensors/readings", json={"readings": batch})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["accepted"] == 2
    errors = {e["index"]: (e["field"], e["reason"]) for e in detail["errors"]}
    assert set(errors) == {1, 2, 3, 4, 5}
    assert "unknown sensor 'han-jamsu.wl9'" in errors[1][1]
    assert errors[2] == ("unit", "wrong unit 'cm' for 'han-jamsu.wl1': expected 'm'")
    assert errors[3][0] == "value" and "valid number" in errors[3][1]
    assert errors[4][0] == "measured_at" and "300 s in the future" in errors[4][1]
    assert errors[5][0] == "structure_id"
    assert len(publisher.messages("sensor.readings")) == 2


def test_broker_failure_is_503(
    client: TestClient, clock: ManualClock, publisher: InMemoryPublisher
) -> None:
    publisher.unavailable = True
    response = client.post("/api/sensors/readings", json=[body(clock)])
    assert response.status_code == 503
    assert "retry" in response.json()["detail"]


def test_body_must_be_a_json_array(client: TestClient) -> None:
    assert client.post("/api/sensors/readings", content=b"{nope").status_code == 422
    response = client.post("/api/sensors/readings", json={"value": 1})
    assert response.status_code == 422 and "JSON array" in response.json()["detail"]
