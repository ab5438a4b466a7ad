"""Call intake: turn a validated 119 call into an incident, idempotently.

For now each new call opens its own incident; correlation of duplicates is the next step and
plugs in at :func:`ingest_call`. A call id seen before changes nothing and returns the
incident it already belongs to, so a replay re-publishes the same state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.store import CallRow, IncidentRow, TimelineRow, incident_record, timeline_record
from goldentime.contracts import Call, Incident, IncidentStatus, TimelineEntry
from goldentime.errors import StoreError


def incident_id_for(call_id: str) -> str:
    """A stable incident id derived from the call that opened it (replays give the same id)."""
    return "INC-" + hashlib.sha256(call_id.encode()).hexdigest()[:12].upper()


@dataclass(frozen=True, slots=True)
class IngestResult:
    incident: Incident
    created: bool
    duplicate: bool
    timeline: list[TimelineEntry] = field(default_factory=list)


def _existing(session: Session, call_id: str) -> IngestResult | None:
    row = session.get(CallRow, call_id)
    if row is None:
        return None
    incident = session.get(IncidentRow, row.incident_id)
    if incident is None:  # pragma: no cover - foreign key forbids it
        raise StoreError(f"call {call_id} points at missing incident {row.incident_id}")
    return IngestResult(incident=incident_record(incident), created=False, duplicate=True)


def _open_incident(session: Session, call: Call, now: datetime) -> IngestResult:
    incident_id = incident_id_for(call.id)
    incident = IncidentRow(
        id=incident_id,
        type=call.type.value,
        status=IncidentStatus.OPEN.value,
        lat=call.lat,
        lon=call.lon,
        description=call.description,
        created_at=call.received_at,
        updated_at=now,
        revision=1,
    )
    session.add(incident)
    session.add(
        CallRow(
            id=call.id,
            incident_id=incident_id,
            received_at=call.received_at,
            lat=call.lat,
            lon=call.lon,
            type=call.type.value,
            caller=call.caller,
            description=call.description,
            source=call.source.value,
            link_reason="opened the incident",
            payload=call.model_dump(mode="json"),
        )
    )
    entry = TimelineRow(
        id=f"{incident_id}:call:{call.id}",
        incident_id=incident_id,
        at=call.received_at,
        kind="call_received",
        detail=f"{call.type.value} call {call.id} ({call.source.value}) opened the incident",
        actor=call.source.value,
    )
    session.add(entry)
    session.flush()
    session.refresh(incident)
    return IngestResult(
        incident=incident_record(incident),
        created=True,
        duplicate=False,
        timeline=[timeline_record(entry)],
    )


def ingest_call(sessions: sessionmaker[Session], call: Call, *, now: datetime) -> IngestResult:
    """Store ``call`` and the incident it opens, in one transaction; idempotent by call id.

    Raises StoreError when the database cannot be used (the caller retries: the call is valid
    and must not be lost).
    """
    try:
        with sessions.begin() as session:
            existing = _existing(session, call.id)
            if existing is not None:
                return existing
            return _open_incident(session, call, now)
    except IntegrityError:
        # Another worker stored the same call between our read and our write.
        with sessions() as session:
            existing = _existing(session, call.id)
        if existing is None:
            raise StoreError(f"call {call.id} conflicted but is not stored") from None
        return existing
    except SQLAlchemyError as err:
        raise StoreError(f"cannot store call {call.id}: {err}") from err
