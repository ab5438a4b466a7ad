"""Reads of calls and commands: a call as stored, an incident's calls, the caller's fix, the
result of a command, and which records of the intake outbox dispatch has stored already."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from dispatch.incident_store import CallRow, CommandRow
from dispatch.queries.views import CallView
from goldentime.contracts.dispatch import CommandResult
from goldentime.db import one_of

CALLS = cast(Table, CallRow.__table__)
COMMANDS = cast(Table, CommandRow.__table__)


def call_view(row: CallRow) -> CallView:
    return CallView(
        id=row.id,
        incident_id=row.incident_id,
        received_at=row.received_at,
        clock_skew_s=row.clock_skew_s,
        lat=row.lat,
        lon=row.lon,
        type=row.type,
        caller=row.caller,
        description=row.description,
        source=row.source,
        link_reason=row.link_reason,
        payload=row.payload,
        location_uncertainty_m=row.location_uncertainty_m,
        location_source=row.location_source,
    )


def find_call(session: Session, call_id: str) -> CallView | None:
    """The call as stored, or None until dispatch has stored it."""
    row = session.get(CallRow, call_id)
    return None if row is None else call_view(row)


def call_ids_of(session: Session, incident_id: str) -> list[str]:
    """Ids of the incident's calls."""
    return list(session.scalars(select(CallRow.id).where(CallRow.incident_id == incident_id)))


def caller_locations(
    session: Session, positions: Mapping[str, tuple[float, float]]
) -> dict[str, tuple[float | None, str | None]]:
    """Incident id -> (uncertainty in metres, source) of the call whose position the incident
    took (``positions``: incident id -> the incident's (lat, lon)); one query for them all.
    Incidents whose position came from no located call are left out."""
    c = CALLS.c
    rows = session.execute(
        select(c.incident_id, c.lat, c.lon, c.location_uncertainty_m, c.location_source)
        .where(c.incident_id.in_(list(positions)), c.location_uncertainty_m.is_not(None))
        .order_by(c.received_at, c.id)
    ).tuples()
    found: dict[str, tuple[float | None, str | None]] = {}
    for incident_id, lat, lon, uncertainty, source in rows:
        if incident_id not in found and positions.get(incident_id) == (lat, lon):
            found[incident_id] = (uncertainty, source)
    return found


def _stored(connection: Connection, table: Table, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    column = table.c.id
    query = select(column).where(one_of(column, list(ids), dialect=connection.dialect.name))
    return set(connection.execute(query).scalars())


def stored_call_ids(connection: Connection, ids: Collection[str]) -> set[str]:
    """The calls among ``ids`` that dispatch has stored already."""
    return _stored(connection, CALLS, ids)


def stored_command_ids(connection: Connection, ids: Collection[str]) -> set[str]:
    """The commands among ``ids`` that dispatch has applied (and recorded) already."""
    return _stored(connection, COMMANDS, ids)


def command_result(session: Session, command_id: str) -> CommandResult | None:
    """What became of a command, or None until the dispatch worker has applied it."""
    row = session.get(CommandRow, command_id)
    if row is None:
        return None
    return CommandResult(
        command_id=row.id,
        ok=row.ok,
        reason=row.reason,
        incident_id=row.incident_id,
        applied_at=row.applied_at,
    )
