"""The relocate command: a better location for an active incident, on its timeline, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.commands import apply_command
from dispatch.incident_store import CallRow, IncidentRow, TimelineRow
from goldentime.contracts.dispatch import Command, CommandAction
from goldentime.db import create_schema, make_engine, session_factory

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gt.db'}")
    create_schema(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        for incident_id, status in (("INC-1", "open"), ("INC-2", "closed")):
            session.add(
                IncidentRow(
                    id=incident_id,
                    type="building_fire",
                    status=status,
                    lat=37.57,
                    lon=126.983,
                    created_at=NOW,
                    updated_at=NOW,
                    last_activity_at=NOW,
                    cell="c",
                )
            )
            session.add(
                CallRow(
                    id=f"call-{incident_id}",
                    incident_id=incident_id,
                    received_at=NOW,
                    lat=37.57,
                    lon=126.983,
                    type="building_fire",
                    source="api",
                    link_reason="new",
                    payload={},
                )
            )
    return factory


def relocate(incident_id: str, command_id: str = "cmd-r1") -> Command:
    return Command(
        id=command_id,
        at=NOW,
        actor="caller-media:disp",
        action=CommandAction.RELOCATE,
        incident_id=incident_id,
        lat=37.57123,
        lon=126.98452,
        note="caller phone GPS ±12 m",
    )


def test_relocate_moves_the_incident_and_says_so_on_the_timeline(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        applied = apply_command(session, relocate("INC-1"), now=NOW)
    assert applied.result.ok and applied.result.reason == "relocated"
    (incident,) = applied.incidents
    assert (incident.lat, incident.lon) == (37.57123, 126.98452)
    (line,) = applied.timeline
    assert line.kind == "relocated" and "±12 m" in line.detail and "37.57000" in line.detail
    with sessions.begin() as session:  # redelivered: applied once
        again = apply_command(session, relocate("INC-1"), now=NOW)
        assert again.incidents == [] and again.result.ok
        lines = session.scalars(select(TimelineRow).where(TimelineRow.kind == "relocated")).all()
        assert len(lines) == 1


def test_relocate_needs_a_position_and_an_active_incident(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(ValueError, match="relocate needs"):
        Command(id="c", at=NOW, actor="a", action=CommandAction.RELOCATE, incident_id="INC-1")
    with sessions.begin() as session:
        refused = apply_command(session, relocate("INC-2", "cmd-r2"), now=NOW)
        assert not refused.result.ok and "closed" in refused.result.reason
        assert session.get(IncidentRow, "INC-2").lat == 37.57  # type: ignore[union-attr]
