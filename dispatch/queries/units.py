"""Reads of units: the fleet board, positions of available units, who is on an incident."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import unit_store
from dispatch.incident_store import UnitRow
from dispatch.queries.views import UnitPlace
from dispatch.unit_store import unit_record
from goldentime.contracts.dispatch import UnitStatus
from goldentime.contracts.routing import RoutedUnitState


def list_units(session: Session, *, status: UnitStatus | None = None) -> list[RoutedUnitState]:
    """Every unit (only those of ``status`` when given), by station name then id."""
    return [unit_record(r) for r in unit_store.list_units(session, status=status)]


def available_units(session: Session, *, kind: str) -> list[UnitPlace]:
    """Where the available units of a class (engine, ambulance, ...) are."""
    rows = session.scalars(
        select(UnitRow).where(UnitRow.status == UnitStatus.AVAILABLE.value, UnitRow.kind == kind)
    ).all()
    return [UnitPlace(id=r.id, name=r.name, lat=r.lat, lon=r.lon) for r in rows]


def unit_incident_id(session: Session, unit_id: str) -> str | None:
    """The incident the unit is assigned to; None when it is on none (or there is no such
    unit)."""
    row = session.get(UnitRow, unit_id)
    return None if row is None else row.incident_id


def unit_names_on(session: Session, incident_id: str) -> list[str]:
    """Names of the units assigned to the incident."""
    return list(session.scalars(select(UnitRow.name).where(UnitRow.incident_id == incident_id)))
