"""The change feed behind GET /api/stream: committed incident and unit changes, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gt_testing import run_coroutine

from console.live import RESYNC, Change, ChangeFeed
from dispatch.catalog import load_catalog
from dispatch.correlate import Signal
from dispatch.incident_store import UnitRow
from dispatch.intake import ingest
from goldentime.contracts import IncidentType
from goldentime.db import create_schema, make_engine, session_factory, writer

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def unit(unit_id: str, *, at: datetime, status: str = "available", revision: int = 1) -> UnitRow:
    return UnitRow(
        id=unit_id,
        station_id="S1",
        station_name="종로119안전센터",
        name=f"종로 {unit_id}",
        kind="engine",
        status=status,
        lat=37.57,
        lon=126.99,
        home_lat=37.57,
        home_lon=126.99,
        incident_id=None,
        updated_at=at,
        revision=revision,
    )


def test_feed_reports_new_and_changed_rows_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    with sessions.begin() as s:
        s.add(unit("U-1", at=NOW))
    feed = ChangeFeed(session_factory(engine))
    assert feed.poll_once() == [], "the first poll only sets the starting point"

    signal = Signal(id="c-1", kind="call", at=NOW, lat=37.57, lon=126.98, type=IncidentType.FIRE)
    incident = ingest(sessions, [signal], now=NOW + timedelta(seconds=1), catalog=load_catalog())
    incident_id = incident.incidents[0].id
    with sessions.begin() as s:
        row = s.get(UnitRow, "U-1")
        assert row is not None
        row.status, row.revision, row.updated_at = "en_route", 2, NOW + timedelta(seconds=2)
    changes = feed.poll_once()
    assert {(c.kind, c.data["id"]) for c in changes} == {("incident", incident_id), ("unit", "U-1")}
    assert next(c for c in changes if c.kind == "unit").data["status"] == "en_route"
    assert feed.poll_once() == [], "nothing new: nothing sent again"

    with sessions.begin() as s:  # a late commit stamped slightly before the newest row
        s.add(unit("U-2", at=NOW + timedelta(seconds=1)))
    assert [c.data["id"] for c in feed.poll_once()] == ["U-2"]


def test_a_stalled_subscriber_is_told_to_resync(tmp_path: Path) -> None:
    feed = ChangeFeed(session_factory(make_engine(f"sqlite:///{tmp_path / 'gt.db'}")))

    async def scenario() -> list[Change]:
        queue = feed.subscribe()
        feed.publish([Change("unit", {"id": str(i)}) for i in range(2500)])
        return [queue.get_nowait() for _ in range(queue.qsize())]

    received = run_coroutine(scenario)
    assert received[-1] == RESYNC
    assert len(received) <= 2000


def test_change_is_a_server_sent_event() -> None:
    text = Change("unit", {"id": "U-1", "status": "on_scene"}).sse()
    assert text == 'event: unit\ndata: {"id":"U-1","status":"on_scene"}\n\n'


def test_a_command_makes_the_feed_poll_at_once(tmp_path: Path) -> None:
    """With a regular interval of an hour, only the boost after a command finds the change."""
    import asyncio

    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    sessions = session_factory(writer(engine))
    with sessions.begin() as s:
        s.add(unit("U-1", at=NOW))
    feed = ChangeFeed(session_factory(engine), interval_s=3600.0)

    async def scenario() -> Change:
        queue = feed.subscribe()
        task = asyncio.create_task(feed.run())
        try:
            while feed._cursor is None:  # the first poll sets the starting point
                await asyncio.sleep(0.01)
            with sessions.begin() as s:
                row = s.get(UnitRow, "U-1")
                assert row is not None
                row.status, row.revision, row.updated_at = "out_of_service", 2, NOW
            feed.expect_change()
            return await asyncio.wait_for(queue.get(), timeout=10.0)
        finally:
            task.cancel()

    change = run_coroutine(scenario)
    assert (change.kind, change.data["id"], change.data["status"]) == (
        "unit",
        "U-1",
        "out_of_service",
    )
