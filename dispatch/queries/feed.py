"""Reads of the console's change feed (``console.live``): what changed since a time, then the
changed incidents and units in bulk. Light columns first (``*_heads*``), full records only for
what changed, one query per kind whatever the number of rows (no per-row queries)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.incident_store import IncidentRow, RecommendationRow, UnitRow, incident_record
from dispatch.unit_store import unit_record
from goldentime.contracts import Incident
from goldentime.contracts.routing import RoutedUnitState

Heads = dict[str, tuple[int, datetime]]  # id -> (revision, updated_at)


def latest_change_at(session: Session) -> datetime:
    """The latest change of an incident, unit or recommendation (the epoch when none)."""
    latest = [
        session.scalar(select(func.max(IncidentRow.updated_at))),
        session.scalar(select(func.max(UnitRow.updated_at))),
        session.scalar(select(func.max(RecommendationRow.computed_at))),
    ]
    found = [t for t in latest if t is not None]
    return max(found) if found else datetime.fromtimestamp(0).astimezone()


def incident_heads_since(session: Session, since: datetime) -> Heads:
    """Revision and update time of the incidents updated at or after ``since``."""
    return {
        incident_id: (revision, at)
        for incident_id, revision, at in session.execute(
            select(IncidentRow.id, IncidentRow.revision, IncidentRow.updated_at).where(
                IncidentRow.updated_at >= since
            )
        ).tuples()
    }


def incident_heads(session: Session, incident_ids: Collection[str]) -> Heads:
    """Revision and update time of the given incidents."""
    return {
        incident_id: (revision, at)
        for incident_id, revision, at in session.execute(
            select(IncidentRow.id, IncidentRow.revision, IncidentRow.updated_at).where(
                IncidentRow.id.in_(list(incident_ids))
            )
        ).tuples()
    }


def recommendations_since(session: Session, since: datetime) -> dict[str, datetime]:
    """Incident id -> when its recommendation last changed, for those changed since ``since``."""
    return {
        incident_id: at
        for incident_id, at in session.execute(
            select(RecommendationRow.incident_id, RecommendationRow.computed_at).where(
                RecommendationRow.computed_at >= since
            )
        ).tuples()
    }


def unit_heads_since(session: Session, since: datetime) -> Heads:
    """Revision and update time of the units updated at or after ``since``."""
    return {
        unit_id: (revision, at)
        for unit_id, revision, at in session.execute(
            select(UnitRow.id, UnitRow.revision, UnitRow.updated_at).where(
                UnitRow.updated_at >= since
            )
        ).tuples()
    }


def incidents_by_id(session: Session, incident_ids: Collection[str]) -> list[Incident]:
    """The given incidents (wire form; their calls, events and units in one query each)."""
    return [
        incident_record(row)
        for row in session.scalars(
            select(IncidentRow).where(IncidentRow.id.in_(list(incident_ids)))
        )
    ]


def units_by_id(session: Session, unit_ids: Collection[str]) -> list[RoutedUnitState]:
    """The given units (wire form, with the route each is driving)."""
    return [
        unit_record(row)
        for row in session.scalars(select(UnitRow).where(UnitRow.id.in_(list(unit_ids))))
    ]
