"""What the dispatch agents publish records under."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.agents import message_key
from goldentime.contracts import Incident, IncidentStatus, IncidentType, TimelineEntry

AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def test_an_incidents_history_shares_its_key_and_records_their_id() -> None:
    entry = TimelineEntry(
        id="INC-1:call:c-1", incident_id="INC-1", at=AT, kind="call_opened", actor="api"
    )
    incident = Incident(
        id="INC-1",
        type=IncidentType.FIRE,
        status=IncidentStatus.OPEN,
        lat=37.57,
        lon=126.98,
        call_ids=["c-1"],
        created_at=AT,
        updated_at=AT,
    )
    assert message_key(entry) == "INC-1"  # one partition, in order, per incident
    assert message_key(incident) == "INC-1"
