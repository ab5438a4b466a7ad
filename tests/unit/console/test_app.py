"""The console app with the in-memory publisher (the real broker path is in tests/integration)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gt_published import calls, sent

from console.app import create_app
from console.auth import AuthConfig
from console.basemap import Basemap
from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.intake import ingest
from goldentime.broker.publisher import BlockingPublisher, InMemoryPublisher
from goldentime.clock import ManualClock
from goldentime.contracts import IncidentType
from goldentime.db import make_engine, session_factory, writer
from goldentime.outbox import OutboxRow
from goldentime.settings import load_settings

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


@pytest.fixture
def env(
    tmp_path: Path, shared_basemap: Basemap
) -> Iterator[tuple[TestClient, InMemoryPublisher, object]]:
    publisher = InMemoryPublisher()
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    app = create_app(
        load_settings(data={"dir": tmp_path}),
        publisher=publisher,
        engine=engine,
        clock=ManualClock(NOW),
        auth=AuthConfig(mode="demo", secret_key="test-secret"),
        basemap=shared_basemap,
    )
    with TestClient(app) as client:
        yield client, publisher, session_factory(writer(engine))


def test_valid_call_is_published_and_acknowledged(env) -> None:  # type: ignore[no-untyped-def]
    client, publisher, _ = env
    r = client.post("/api/calls", json={"lat": 37.57, "lon": 126.98, "type": "ems"})
    assert r.status_code == 202
    body = r.json()
    assert body["call_id"].startswith("call-")
    assert calls(publisher)[0].id == body["call_id"]
    assert calls(publisher)[0].received_at == NOW  # type: ignore[attr-defined]
    assert sent(publisher)[0][2] == "7514:20316", "calls are keyed by spatial cell"


def test_invalid_call_is_422_with_field_and_nothing_published(env) -> None:  # type: ignore[no-untyped-def]
    client, publisher, _ = env
    r = client.post("/api/calls", json={"lat": 91, "lon": 126.98, "type": "fire", "x": 1})
    assert r.status_code == 422
    fields = {tuple(d["loc"]) for d in r.json()["detail"]}
    assert ("body", "lat") in fields
    assert ("body", "x") in fields
    assert calls(publisher) == []


def outbox_ids(sessions) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return [(r.topic, r.record_id) for r in session.query(OutboxRow).all()]


def test_broker_down_still_accepts_durably(env) -> None:  # type: ignore[no-untyped-def]
    client, publisher, sessions = env
    publisher.unavailable = True
    r = client.post("/api/calls", json={"id": "c-9", "lat": 37.57, "lon": 126.98, "type": "fire"})
    assert r.status_code == 202
    assert outbox_ids(sessions) == [("calls", "c-9")], "accepted means: in the outbox"
    again = client.post(
        "/api/calls", json={"id": "c-9", "lat": 37.57, "lon": 126.98, "type": "fire"}
    )
    assert again.status_code == 202 and outbox_ids(sessions) == [("calls", "c-9")]


def test_database_locked_is_503_with_retry_after_and_nothing_accepted(  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    publisher = InMemoryPublisher()
    url = f"sqlite:///{tmp_path / 'gt.db'}"
    engine = make_engine(url)
    settings = load_settings(data={"dir": tmp_path}, intake={"lock_wait_s": 0.2})
    app = create_app(
        settings,
        publisher=publisher,
        engine=engine,
        clock=ManualClock(NOW),
        auth=AuthConfig(mode="demo", secret_key="test-secret"),
    )
    with TestClient(app) as client:
        locker = sqlite3.connect(tmp_path / "gt.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            r = client.post(
                "/api/calls", json={"id": "c-7", "lat": 37.57, "lon": 126.98, "type": "fire"}
            )
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "2"
        assert r.json()["call_id"] == "c-7"
        assert outbox_ids(session_factory(engine)) == [], "nothing accepted"
        assert (
            client.post(
                "/api/calls", json={"id": "c-7", "lat": 37.57, "lon": 126.98, "type": "fire"}
            ).status_code
            == 202
        )


def test_stopping_console_answers_503_with_retry_after(env) -> None:  # type: ignore[no-untyped-def]
    client, publisher, sessions = env
    client.app.state.intake.draining = True
    r = client.post("/api/calls", json={"id": "c-8", "lat": 37.57, "lon": 126.98, "type": "fire"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert calls(publisher) == [] and outbox_ids(sessions) == []
    assert client.get("/api/health").status_code == 200, "reads go on while stopping"


def test_health_reports_intake_durability(env) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    body = client.get("/api/health").json()
    # a fake publisher means no relay: accepted records wait for a console with a broker
    assert body["intake_durable"] is False
    assert body["intake_pending"] == 0


def test_incidents_api_reads_the_record(env) -> None:  # type: ignore[no-untyped-def]
    client, _, sessions = env
    signal = Signal(id="c-1", kind="call", at=NOW, lat=37.57, lon=126.98, type=IncidentType.FIRE)
    incident = ingest(sessions, [signal], now=NOW, catalog=load_catalog()).incidents[0]
    listed = client.get("/api/incidents").json()
    assert [i["id"] for i in listed] == [incident.id]
    for key in ("id", "type", "lat", "lon", "status", "call_ids", "created_at"):
        assert key in listed[0]
    detail = client.get(f"/api/incidents/{incident.id}").json()
    assert detail["call_ids"] == ["c-1"]
    assert detail["timeline"][0]["kind"] == "call_opened"
    assert client.get("/api/calls/c-1").json()["incident_id"] == incident.id
    assert client.get("/api/incidents/INC-NOPE").status_code == 404
    assert client.get("/api/calls/nope").status_code == 404


def test_board_and_vendored_map_are_served_locally(env) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = env
    page = client.get("/").text
    assert "/static/vendor/leaflet/leaflet.js" in page
    assert "http://" not in page and "https://" not in page
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/api/basemap/gu").json()["type"] == "FeatureCollection"


def test_health_reports_dispatch_ready_only_with_a_live_worker(env) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from dispatch.incident_store import record_heartbeat

    client, _, sessions = env
    assert client.get("/api/health").json()["dispatch_ready"] is False
    with sessions.begin() as s:
        record_heartbeat(
            s, name="stale", started_at=NOW, now=NOW - timedelta(minutes=5), partitions=4
        )
        record_heartbeat(s, name="joining", started_at=NOW, now=NOW, partitions=0)
    health = client.get("/api/health").json()
    assert [w["name"] for w in health["workers"]] == ["joining"]
    assert health["dispatch_ready"] is False
    with sessions.begin() as s:
        record_heartbeat(s, name="joining", started_at=NOW, now=NOW, partitions=4)
    assert client.get("/api/health").json()["dispatch_ready"] is True


def test_commands_are_published_with_actor_and_results_read_back(env) -> None:  # type: ignore[no-untyped-def]
    from dispatch.commands import apply_command
    from goldentime.contracts.dispatch import Command

    client, publisher, sessions = env
    r = client.post(
        "/api/incidents/INC-1/dispatch",
        json={"unit_ids": ["U1"], "id": "cmd-1"},
        headers={"X-Goldentime-User": "kim.dispatcher"},
    )
    assert r.status_code == 202 and r.json()["command_id"] == "cmd-1"
    topic, command, key = sent(publisher)[-1]
    assert (topic, key) == ("commands", "INC-1")
    assert command.actor == "kim.dispatcher" and command.unit_ids == ["U1"]  # type: ignore[attr-defined]
    assert client.get("/api/commands/cmd-1").status_code == 404
    with sessions.begin() as s:
        apply_command(s, command, now=NOW)  # type: ignore[arg-type]
    result = client.get("/api/commands/cmd-1").json()
    assert result["ok"] is False and "no incident INC-1" in result["reason"]
    bad = client.post("/api/units/U1/status", json={"status": "flying"})
    assert bad.status_code == 422
    assert isinstance(Command, type)


def test_sensor_readings_batch_is_validated_and_published(tmp_path: Path) -> None:
    from datetime import timedelta

    from goldentime.contracts.sensors import UNITS
    from sensors.registry import load_registry

    readings = InMemoryPublisher()
    sensor_publisher = BlockingPublisher(readings, name="test-sensors-publisher")
    registry = load_registry(load_settings().data.seoul_dir)
    sensor = next(s for s in registry.sensors() if s.kind == "water_level")
    app = create_app(
        load_settings(data={"dir": tmp_path}),
        publisher=InMemoryPublisher(),
        engine=make_engine(f"sqlite:///{tmp_path / 'gt.db'}"),
        clock=ManualClock(NOW),
        sensor_publisher=sensor_publisher,
        auth=AuthConfig(mode="demo", secret_key="test-secret"),
    )
    good = {
        "id": "r-1",
        "structure_id": sensor.structure_id,
        "sensor_id": sensor.sensor_id,
        "kind": sensor.kind,
        "value": 4.2,
        "unit": UNITS[sensor.kind],
        "measured_at": (NOW - timedelta(seconds=5)).isoformat(),
    }
    bad = {**good, "id": "r-2", "value": "high"}
    try:
        with TestClient(app) as client:
            r = client.post("/api/sensors/readings", json=[good, bad])
    finally:
        sensor_publisher.close()
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert [e["index"] for e in errors] == [1]
    assert [r.topic for r in readings.records] == ["sensor.readings"]


def test_attached_events_show_camera_snapshot_live_view_and_sensor_readings() -> None:
    from console.app import event_detail

    video = event_detail(
        "video",
        {
            "camera_id": "cam-1",
            "camera_name": "종로3가",
            "event_type": "fire",
            "confidence": 0.82,
            "advisory": True,
            "snapshot_url": "http://127.0.0.1:8554/media/cam-1/ep-1.jpg",
        },
    )
    assert video["live_url"] == "http://127.0.0.1:8554/cameras/cam-1/stream.mjpg"
    assert (video["confidence"], video["advisory"]) == (0.82, True)
    assert event_detail("video", {"camera_id": "cam-1"})["live_url"] is None
    sensor = event_detail(
        "sensor",
        {
            "structure_id": "tn-sajik",
            "structure_name": "사직터널",
            "sensor_id": "tn-sajik-co",
            "level": "critical",
            "value": 210.0,
            "unit": "ppm",
            "threshold": 150.0,
            "reason": "CO",
            "extra": "not shown",
        },
    )
    assert sensor["structure_name"] == "사직터널" and sensor["value"] == 210.0
    assert "extra" not in sensor
    assert event_detail("call", {}) == {}


def test_coverage_holes_for_the_available_units(env) -> None:  # type: ignore[no-untyped-def]
    from dispatch.context import fleet_for, road_network
    from dispatch.unit_store import seed_units

    client, _, sessions = env
    settings = load_settings()
    fleet = fleet_for(road_network(settings), settings.data.seoul_dir / "units" / "fire_units.csv")
    with sessions.begin() as s:
        seed_units(s, fleet, now=NOW)
    body = client.get("/api/coverage", params={"minutes": 5, "vehicle": "engine"}).json()
    assert body["units"] == sum(1 for v in fleet if v.kind == "engine")
    assert 0.5 < body["covered_share"] <= 1.0
    assert body["holes"]["type"] == "FeatureCollection"
    assert body["gu_missing"] == ["강동구"], "the model cannot judge a gu without roads: say so"
    assert body["note"] == "도로망 미포함 — 접근 추정"
    few = client.get("/api/coverage", params={"minutes": 1, "vehicle": "engine"}).json()
    assert few["covered_share"] < body["covered_share"], "less time, less road covered"
    assert client.get("/api/coverage", params={"vehicle": "boat"}).status_code == 422


def test_alert_fan_outs_are_counted_by_channel_and_outcome() -> None:
    from alerts.fanout import FanOutReport
    from alerts.service import DeliverySummary
    from console.metrics import alert_delivery_recorder
    from goldentime.metrics import Metrics

    metrics = Metrics()
    record = alert_delivery_recorder(metrics)
    record(
        DeliverySummary(
            alert_id="A1",
            exercise=False,
            recipients=5,
            sms=FanOutReport(
                alert_id="A1", channel="sms", sent=4, failed=1, reconciled=0, skipped=0
            ),
            social_posts={"mastodon": ["p1", "p2"]},
            cell_broadcast={},
        )
    )
    text = metrics.exposition().decode()
    assert 'goldentime_alerts_sent_total{channel="sms",outcome="sent"} 4.0' in text
    assert 'goldentime_alerts_sent_total{channel="sms",outcome="failed"} 1.0' in text
    assert 'goldentime_alerts_sent_total{channel="mastodon",outcome="sent"} 2.0' in text
