"""Call intake with a sender clock far off: taken, flagged, placed by the console's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from gt_published import calls

from console.app import create_app
from console.auth import AuthConfig
from dispatch.catalog import load_catalog
from dispatch.intake import ingest
from dispatch.signals import call_signal
from goldentime.broker.publisher import InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.db import make_engine, session_factory, writer
from goldentime.settings import load_settings

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, InMemoryPublisher, Any]]:
    publisher = InMemoryPublisher()
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    app = create_app(
        load_settings(data={"dir": tmp_path}),
        publisher=publisher,
        engine=engine,
        clock=ManualClock(NOW),
        auth=AuthConfig(mode="demo", secret_key="test-secret"),
    )
    with TestClient(app) as client:
        yield client, publisher, session_factory(writer(engine))


def body(id_: str, received_at: datetime) -> dict[str, Any]:
    return {"id": id_, "received_at": received_at.isoformat(), "lat": 37.57, "lon": 126.98,
            "type": "fire", "description": "gateway clock"}  # fmt: skip


@pytest.mark.parametrize(
    ("offset", "skew"),
    [
        (timedelta(0), None),
        (timedelta(seconds=-300), None),  # posted five minutes after it was answered
        (timedelta(hours=9), 9 * 3600.0),  # KST sent as UTC
        (timedelta(hours=-4), -4 * 3600.0),
        (timedelta(minutes=2), 120.0),
    ],
)
def test_every_call_is_taken_and_a_wrong_clock_flagged(
    env: Any, offset: timedelta, skew: float | None
) -> None:
    client, publisher, _ = env
    r = client.post("/api/calls", json=body("c-1", NOW + offset))
    assert r.status_code == 202, r.text
    assert r.json()["clock_skew_s"] == skew
    (call,) = calls(publisher)
    assert call.received_at == NOW + offset, "the claim is kept"
    assert call.accepted_at == NOW
    assert call.clock_skew_s == skew
    assert call.event_time == (NOW if skew is not None else NOW + offset)


def test_the_incident_shows_the_claim_the_receipt_and_the_flag(env: Any) -> None:
    client, publisher, sessions = env
    client.post("/api/calls", json=body("c-tz", NOW + timedelta(hours=9)))
    out = ingest(sessions, [call_signal(calls(publisher)[0])], now=NOW, catalog=load_catalog())
    incident_id = out.new_incident_ids[0]
    (listed,) = client.get("/api/incidents").json()
    assert listed["clock_skew_s"] == 9 * 3600
    assert datetime.fromisoformat(listed["created_at"]) == NOW
    (call,) = client.get(f"/api/incidents/{incident_id}").json()["calls"]
    assert datetime.fromisoformat(call["received_at"]) == NOW
    assert datetime.fromisoformat(call["claimed_at"]) == NOW + timedelta(hours=9)
    assert call["clock_skew_s"] == 9 * 3600
