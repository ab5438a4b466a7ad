"""Reads of incidents: one incident with its members, lists, timeline, recommendation,
merges and unlinks. Each function is the statement its caller used to run on the rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import incident_store
from dispatch.incident_store import CommandRow, IncidentRow, SignalRow, TimelineRow, incident_record
from dispatch.queries.calls import call_view
from dispatch.queries.views import IncidentView, SignalView, TimelineLine, Unlink
from dispatch.unit_store import unit_record
from goldentime.contracts import Incident, IncidentStatus, TimelineEntry

ACTIVE = (IncidentStatus.OPEN.value, IncidentStatus.DISPATCHED.value, IncidentStatus.ON_SCENE.value)


def signal_view(row: SignalRow) -> SignalView:
    return SignalView(
        id=row.id,
        kind=row.kind,
        incident_id=row.incident_id,
        at=row.at,
        lat=row.lat,
        lon=row.lon,
        type=row.type,
        link_reason=row.link_reason,
        payload=row.payload,
    )


def find_incident(session: Session, incident_id: str) -> Incident | None:
    """The incident (wire form), or None when there is no such incident."""
    row = session.get(IncidentRow, incident_id)
    return None if row is None else incident_record(row)


def incident_view(session: Session, incident_id: str) -> IncidentView | None:
    """The incident with its calls, signals and units (one lookup; the members come with it,
    one query each), or None."""
    row = session.get(IncidentRow, incident_id)
    if row is None:
        return None
    return IncidentView(
        record=incident_record(row),
        calls=tuple(call_view(c) for c in row.calls),
        signals=tuple(signal_view(s) for s in row.signals),
        units=tuple(unit_record(u) for u in row.units),
    )


def list_incidents(
    session: Session, *, status: IncidentStatus | None = None, limit: int = 500
) -> list[Incident]:
    """Incidents, newest first (at most ``limit``; only those of ``status`` when given)."""
    return incident_store.list_incidents(
        session, status=None if status is None else status.value, limit=limit
    )


def timeline(session: Session, incident_id: str) -> list[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return incident_store.get_timeline(session, incident_id)


def timeline_lines(session: Session, incident_id: str) -> list[TimelineLine]:
    """The incident's timeline with each entry's sequence number, oldest first."""
    rows = session.scalars(
        select(TimelineRow).where(TimelineRow.incident_id == incident_id).order_by(TimelineRow.seq)
    )
    return [
        TimelineLine(
            seq=r.seq,
            id=r.id,
            incident_id=r.incident_id,
            at=r.at,
            kind=r.kind,
            detail=r.detail,
            actor=r.actor,
        )
        for r in rows
    ]


def latest_recommendation(session: Session, incident_id: str) -> dict[str, Any] | None:
    """The incident's latest recommendation (JSON-ready), or None."""
    return incident_store.latest_recommendation(session, incident_id)


def merged_sources(session: Session, incident_id: str) -> list[str]:
    """Ids of the incidents merged into ``incident_id``, sorted."""
    return list(
        session.scalars(
            select(IncidentRow.id)
            .where(IncidentRow.merged_into == incident_id)
            .order_by(IncidentRow.id)
        )
    )


def unlinks_of(session: Session, incident_id: str) -> list[Unlink]:
    """The applied unlinks of the incident: calls taken out of it, and the call that opened it
    when an unlink did."""
    out: list[Unlink] = []
    entries = session.execute(
        select(TimelineRow.id, TimelineRow.kind).where(
            TimelineRow.incident_id == incident_id,
            TimelineRow.kind.in_(["unlinked", "opened_by_unlink"]),
        )
    ).tuples()
    for entry_id, kind in entries:
        command_id = entry_id.split(f":{kind}:", 1)[1]
        command = session.get(CommandRow, command_id)
        if command is None or not command.ok:
            continue
        if kind == "unlinked":
            other = command.reason  # the unlink command's outcome is the new incident id
        else:
            other_row = session.scalar(
                select(TimelineRow.incident_id).where(
                    TimelineRow.id.like(f"%:unlinked:{command_id}")
                )
            )
            if other_row is None:
                continue
            other = other_row
        out.append(
            Unlink(
                command_id=command_id,
                call_id=str(command.payload.get("call_id", "")),
                other_incident_id=other,
                actor=command.actor,
                at=command.at,
            )
        )
    return out


def incident_ids_by_update(
    session: Session,
    *,
    limit: int,
    incident_id: str | None = None,
    kind: str | None = None,
    updated_after: datetime | None = None,
    active_only: bool = False,
) -> list[str]:
    """Incident ids, least recently updated first (at most ``limit``): the one
    ``incident_id``, else those of type ``kind``; changed after ``updated_after``; only the
    active ones (open, dispatched, on scene) with ``active_only``."""
    query = select(IncidentRow.id).order_by(IncidentRow.updated_at).limit(limit)
    if incident_id is not None:
        query = query.where(IncidentRow.id == incident_id)
    elif kind is not None:
        query = query.where(IncidentRow.type == kind)
    if updated_after is not None:
        query = query.where(IncidentRow.updated_at > updated_after)
    if active_only:
        query = query.where(IncidentRow.status.in_(ACTIVE))
    return list(session.scalars(query))
