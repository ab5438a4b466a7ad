"""Call intake end to end on the real embedded broker, dispatch worker, console and SQLite."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from gt_testing import read_topic, wait_until
from kafka import KafkaProducer

from ops.up import LocalSystem

pytestmark = pytest.mark.integration


_places = itertools.count()


def distinct_place() -> tuple[float, float]:
    """A point at least 400 m from every other test call (so none of them correlate)."""
    n = next(_places)
    return 37.548 + (n % 10) * 0.004, 126.955 + (n // 10) * 0.005


def new_call(**kw: Any) -> dict[str, Any]:
    lat, lon = distinct_place()
    body: dict[str, Any] = {
        "id": f"it-{uuid.uuid4().hex[:12]}",
        "received_at": datetime.now(UTC).isoformat(),
        "lat": lat,
        "lon": lon,
        "type": "building_fire",
        "caller": "010-0000-0000",
        "description": "종로 3층 건물 화재",
    }
    body.update(kw)
    return body


def incident_of(client: httpx.Client, call_id: str) -> str | None:
    r = client.get(f"/api/calls/{call_id}")
    return r.json()["incident_id"] if r.status_code == 200 else None


def test_posted_call_becomes_incident_in_database_and_on_topic(system: LocalSystem) -> None:
    body = new_call()
    with httpx.Client(base_url=system.url) as client:
        started = time.monotonic()
        assert client.post("/api/calls", json=body).status_code == 202
        incident_id = wait_until(lambda: incident_of(client, body["id"]), timeout_s=5)
        assert incident_id, "incident not stored within 5 s"
        stored_after = time.monotonic() - started
        incident = client.get(f"/api/incidents/{incident_id}").json()
        listed = {i["id"]: i for i in client.get("/api/incidents").json()}
    assert incident["call_ids"] == [body["id"]]
    assert incident["type"] == "building_fire"
    assert incident["status"] == "open"
    assert incident_id in listed
    records = read_topic(
        system.bootstrap,
        "incidents",
        timeout_s=5,
        until=lambda rs: any(r.key == incident_id.encode() for r in rs),
    )
    on_topic = [json.loads(r.value) for r in records if r.key == incident_id.encode()]
    assert on_topic and on_topic[-1]["call_ids"] == [body["id"]]
    assert stored_after < 5


def test_malformed_call_is_422_and_nothing_stored(system: LocalSystem) -> None:
    body = new_call(lat="north", type="alien")
    with httpx.Client(base_url=system.url) as client:
        r = client.post("/api/calls", json=body)
        assert r.status_code == 422
        fields = {d["loc"][-1] for d in r.json()["detail"]}
        assert {"lat", "type"} <= fields
        time.sleep(1.0)
        assert client.get(f"/api/calls/{body['id']}").status_code == 404


def test_garbage_on_topic_is_dead_lettered_and_worker_goes_on(system: LocalSystem) -> None:
    producer = KafkaProducer(bootstrap_servers=system.bootstrap, acks="all")
    marker = uuid.uuid4().hex
    bad_json = b"{not json " + marker.encode()
    bad_record = json.dumps(new_call(id=f"bad-{marker}", lat=120.0)).encode()
    good = new_call()
    for value in (bad_json, bad_record, json.dumps(good).encode()):
        producer.send("calls", key=b"k", value=value)
    producer.flush()
    producer.close()
    letters = read_topic(
        system.bootstrap,
        "deadletter",
        timeout_s=10,
        until=lambda rs: sum(marker.encode() in r.value for r in rs) >= 2,
    )
    mine = [json.loads(r.value) for r in letters if marker.encode() in r.value]
    reasons = sorted(m["reason"] for m in mine)
    assert len(mine) == 2
    assert reasons[0].startswith("invalid Call: lat")
    assert reasons[1].startswith("not JSON")
    assert all(m["source_topic"] == "calls" and m["offset"] is not None for m in mine)
    with httpx.Client(base_url=system.url) as client:
        assert wait_until(lambda: incident_of(client, good["id"]), timeout_s=10)
        assert client.get(f"/api/calls/bad-{marker}").status_code == 404


def test_duplicate_call_id_makes_one_incident(system: LocalSystem) -> None:
    body = new_call()
    with httpx.Client(base_url=system.url) as client:
        for _ in range(3):
            assert client.post("/api/calls", json=body).status_code == 202
        first = wait_until(lambda: incident_of(client, body["id"]), timeout_s=5)
        # a later, different call proves the worker has processed the duplicates already
        later = new_call()
        client.post("/api/calls", json=later)
        assert wait_until(lambda: incident_of(client, later["id"]), timeout_s=5)
        incidents = client.get("/api/incidents").json()
    mine = [i for i in incidents if body["id"] in i["call_ids"]]
    assert [i["id"] for i in mine] == [first]
    assert mine[0]["call_ids"] == [body["id"]]
