"""Unit state in the incident record: seeding the fleet, reading it, its wire form."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.fleet import Vehicle
from dispatch.incident_store import UnitRow
from goldentime.contracts.dispatch import UnitStatus
from goldentime.contracts.routing import RoutedUnitState, UnitRoute


def seed_units(session: Session, fleet: Iterable[Vehicle], *, now: datetime) -> int:
    """Add the vehicles not in the database yet (available, at their station); return how many."""
    known = set(session.scalars(select(UnitRow.id)))
    added = 0
    for vehicle in fleet:
        if vehicle.unit_id in known:
            continue
        session.add(
            UnitRow(
                id=vehicle.unit_id,
                station_id=vehicle.station_id,
                station_name=vehicle.station_name,
                name=vehicle.name,
                kind=vehicle.kind,
                status=UnitStatus.AVAILABLE.value,
                lat=vehicle.lat,
                lon=vehicle.lon,
                home_lat=vehicle.lat,
                home_lon=vehicle.lon,
                incident_id=None,
                updated_at=now,
                revision=1,
            )
        )
        added += 1
    return added


def unit_record(row: UnitRow) -> RoutedUnitState:
    """The wire/API form of a unit, with the route it is driving (None when not on its way)."""
    return RoutedUnitState(
        id=row.id,
        station_id=row.station_id,
        station_name=row.station_name,
        name=row.name,
        kind=row.kind,
        status=UnitStatus(row.status),
        lat=row.lat,
        lon=row.lon,
        home_lat=row.home_lat,
        home_lon=row.home_lon,
        incident_id=row.incident_id,
        updated_at=row.updated_at,
        revision=row.revision,
        route=None if row.route is None else UnitRoute.model_validate(row.route),
    )


def list_units(session: Session, *, status: UnitStatus | None = None) -> list[UnitRow]:
    query = select(UnitRow).order_by(UnitRow.station_name, UnitRow.id)
    if status is not None:
        query = query.where(UnitRow.status == status.value)
    return list(session.scalars(query))
