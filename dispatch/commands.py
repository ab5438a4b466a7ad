"""Commands: dispatch, crew acknowledgements, statuses, AVL, unlink, merge, close, note, relocate.

Each command is applied once (its id is the primary key of the ``commands`` table, which is
also the audit trail: who decided what, when, and what became of it). A command that cannot be
applied (a unit no longer available, a status change that makes no sense) is recorded as
refused with the reason; it is a valid record, so it does not go to the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from dispatch.incident_store import (
    CallRow,
    CommandRow,
    IncidentRow,
    RecommendationRow,
    SignalRow,
    TimelineRow,
    UnitRow,
    incident_record,
    larger_skew,
    timeline_record,
)
from dispatch.intake import incident_id_for
from dispatch.unit_store import unit_record
from goldentime.contracts import Incident, IncidentStatus, TimelineEntry
from goldentime.contracts.dispatch import (
    Command,
    CommandAction,
    CommandResult,
    UnitState,
    UnitStatus,
)
from goldentime.errors import GoldenTimeError

if TYPE_CHECKING:
    from dispatch.mci_commands import MciServices

S = UnitStatus
ALLOWED: dict[UnitStatus, frozenset[UnitStatus]] = {
    S.AVAILABLE: frozenset({S.OUT_OF_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE}),
    S.DISPATCHED: frozenset({S.EN_ROUTE, S.ON_SCENE, S.AVAILABLE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.AVAILABLE}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.RETURNING, S.AVAILABLE}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.RETURNING, S.AVAILABLE}),
    S.RETURNING: frozenset({S.AVAILABLE}),
}
ACTIVE = {IncidentStatus.OPEN.value, IncidentStatus.DISPATCHED.value, IncidentStatus.ON_SCENE.value}


class CommandRefusedError(GoldenTimeError):
    """The command is valid but cannot be applied; the message is the reason."""


@dataclass
class Applied:
    result: CommandResult
    incidents: list[Incident] = field(default_factory=list)
    units: list[UnitState] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)


class _Changes:
    def __init__(
        self, session: Session, command: Command, now: datetime, mci: MciServices | None = None
    ) -> None:
        self.session, self.command, self.now = session, command, now
        self.mci = mci  # ERs and road ETAs for the MCI commands (dispatch.mci_commands)
        self.incidents: dict[str, IncidentRow] = {}
        self.units: dict[str, UnitRow] = {}
        self.timeline: list[TimelineRow] = []

    def incident(self, incident_id: str | None, *, active: bool = True) -> IncidentRow:
        row = self.session.get(IncidentRow, incident_id) if incident_id else None
        if row is None:
            raise CommandRefusedError(f"no incident {incident_id}")
        if active and row.status not in ACTIVE:
            raise CommandRefusedError(f"incident {row.id} is {row.status}")
        return row

    def unit(self, unit_id: str) -> UnitRow:
        row = self.session.get(UnitRow, unit_id)
        if row is None:
            raise CommandRefusedError(f"no unit {unit_id}")
        return row

    def touch_incident(self, row: IncidentRow) -> None:
        row.revision += 1
        row.updated_at = self.now
        self.incidents[row.id] = row

    def touch_unit(self, row: UnitRow) -> None:
        row.revision += 1
        row.updated_at = self.now
        self.units[row.id] = row

    def log(self, incident_id: str, kind: str, detail: str, *, suffix: str = "") -> None:
        entry = TimelineRow(
            id=f"{incident_id}:{kind}:{self.command.id}{suffix}",
            incident_id=incident_id,
            at=self.command.at,
            kind=kind,
            detail=detail,
            actor=self.command.actor,
        )
        self.session.add(entry)
        self.timeline.append(entry)


def _dispatch(c: _Changes) -> str:
    incident = c.incident(c.command.incident_id)
    unit_ids = list(c.command.unit_ids)
    if not unit_ids:
        rec = c.session.get(RecommendationRow, incident.id)
        if rec is None or not rec.payload.get("units"):
            raise CommandRefusedError(f"no recommendation for {incident.id} yet; name the units")
        unit_ids = [u["unit_id"] for u in rec.payload["units"]]
    units = [c.unit(u) for u in unit_ids]
    busy = [f"{u.name} ({u.status})" for u in units if u.status != S.AVAILABLE.value]
    if busy:
        raise CommandRefusedError("not available: " + ", ".join(busy))
    for unit in units:
        unit.status, unit.incident_id = S.DISPATCHED.value, incident.id
        c.touch_unit(unit)
    if incident.status == IncidentStatus.OPEN.value:
        incident.status = IncidentStatus.DISPATCHED.value
    incident.dispatched_at = incident.dispatched_at or c.command.at
    c.touch_incident(incident)
    names = ", ".join(u.name for u in units)
    c.log(incident.id, "units_dispatched", f"{names} dispatched by {c.command.actor}")
    return names


def _unit_status(c: _Changes) -> str:
    target = c.command.unit_status
    assert target is not None  # the contract requires it for this action
    for unit_id in c.command.unit_ids:
        unit = c.unit(unit_id)
        current = UnitStatus(unit.status)
        if target == current:
            continue
        if target not in ALLOWED[current]:
            raise CommandRefusedError(
                f"{unit.name}: {current.value} -> {target.value} is not allowed"
            )
        incident = c.session.get(IncidentRow, unit.incident_id) if unit.incident_id else None
        unit.status = target.value
        if c.command.lat is not None and c.command.lon is not None:
            unit.lat, unit.lon = c.command.lat, c.command.lon
        if target in {S.AVAILABLE, S.RETURNING, S.OUT_OF_SERVICE}:
            unit.incident_id = None
        c.touch_unit(unit)
        if incident is not None:
            if target is S.EN_ROUTE and incident.en_route_at is None:
                incident.en_route_at = c.command.at
            if target is S.ON_SCENE:
                incident.on_scene_at = incident.on_scene_at or c.command.at
                if incident.status == IncidentStatus.DISPATCHED.value:
                    incident.status = IncidentStatus.ON_SCENE.value
            c.touch_incident(incident)
            c.log(
                incident.id,
                f"unit_{target.value}",
                f"{unit.name}: {current.value} -> {target.value}",
                suffix=f":{unit.id}",
            )
    return target.value


def _acknowledge(c: _Changes) -> str:
    for unit_id in c.command.unit_ids:
        unit = c.unit(unit_id)
        if unit.incident_id is None:
            raise CommandRefusedError(f"{unit.name} has no assignment to acknowledge")
        c.log(
            unit.incident_id, "unit_acknowledged", f"{unit.name} acknowledged", suffix=f":{unit.id}"
        )
    return "acknowledged"


def _position(c: _Changes) -> str:
    assert c.command.lat is not None and c.command.lon is not None
    for unit_id in c.command.unit_ids:
        unit = c.unit(unit_id)
        unit.lat, unit.lon = c.command.lat, c.command.lon
        c.touch_unit(unit)
    return "position"


def _unlink(c: _Changes) -> str:
    call = c.session.get(CallRow, c.command.call_id)
    signal = None if call is not None else c.session.get(SignalRow, c.command.call_id)
    link: CallRow | SignalRow | None = call if call is not None else signal
    if link is None:
        raise CommandRefusedError(f"no call or event {c.command.call_id}")
    old = c.incident(link.incident_id, active=False)
    if len(old.calls) + len(old.signals) <= 1:
        raise CommandRefusedError(
            f"{link.id} is the only report of {old.id}; nothing to unlink from"
        )
    new_id = incident_id_for(f"unlink:{c.command.id}")
    new = IncidentRow(
        id=new_id,
        type=link.type,
        status=IncidentStatus.OPEN.value,
        lat=link.lat,
        lon=link.lon,
        description=getattr(link, "description", "") or "",
        created_at=c.command.at,
        updated_at=c.now,
        revision=1,
        priority=old.priority,
        gu=old.gu,
        cell=old.cell,
        last_activity_at=c.command.at,
        clock_skew_s=call.clock_skew_s if call is not None else None,
    )
    c.session.add(new)
    link.incident_id = new_id
    link.link_reason = f"unlinked from {old.id} by {c.command.actor}: {c.command.note}".strip()
    c.session.flush()
    c.session.expire(old)
    c.touch_incident(old)
    c.incidents[new_id] = new
    c.log(old.id, "unlinked", f"{link.id} moved to new incident {new_id}")
    c.log(new_id, "opened_by_unlink", f"{link.id} unlinked from {old.id}")
    return new_id


def _merge(c: _Changes) -> str:
    source = c.incident(c.command.incident_id)
    target = c.incident(c.command.into_incident_id)
    if source.id == target.id:
        raise CommandRefusedError("cannot merge an incident into itself")
    links: list[CallRow | SignalRow] = [*source.calls, *source.signals]
    for link in links:
        link.incident_id = target.id
        link.link_reason = f"merged from {source.id} by {c.command.actor}"
    for unit in source.units:
        unit.incident_id = target.id
        c.touch_unit(unit)
    source.status, source.merged_into = IncidentStatus.MERGED.value, target.id
    target.last_activity_at = max(target.last_activity_at, source.last_activity_at)
    target.clock_skew_s = larger_skew(target.clock_skew_s, source.clock_skew_s)
    c.session.flush()
    c.session.expire(source)
    c.session.expire(target)
    c.touch_incident(source)
    c.touch_incident(target)
    c.log(source.id, "merged", f"merged into {target.id}")
    c.log(target.id, "merged_in", f"{source.id} merged in")
    return target.id


def _close(c: _Changes) -> str:
    incident = c.incident(c.command.incident_id)
    for unit in list(incident.units):
        unit.status, unit.incident_id = S.RETURNING.value, None
        c.touch_unit(unit)
    incident.status, incident.closed_at = IncidentStatus.CLOSED.value, c.command.at
    c.touch_incident(incident)
    c.log(incident.id, "closed", f"closed by {c.command.actor} {c.command.note}".strip())
    return "closed"


def _note(c: _Changes) -> str:
    """A line on the timeline only: the incident's state (and revision) stays as it is."""
    incident = c.incident(c.command.incident_id, active=False)
    c.log(incident.id, "note", c.command.note)
    return "noted"


def _relocate(c: _Changes) -> str:
    """A better location for an active incident (the note says where it came from)."""
    assert c.command.lat is not None and c.command.lon is not None
    incident = c.incident(c.command.incident_id)
    old = (incident.lat, incident.lon)
    incident.lat, incident.lon = c.command.lat, c.command.lon
    c.touch_incident(incident)
    c.log(
        incident.id,
        "relocated",
        f"location {old[0]:.5f},{old[1]:.5f} -> {incident.lat:.5f},{incident.lon:.5f} "
        f"{c.command.note}".strip(),
    )
    return "relocated"


HANDLERS = {
    CommandAction.DISPATCH: _dispatch,
    CommandAction.ACKNOWLEDGE: _acknowledge,
    CommandAction.UNIT_STATUS: _unit_status,
    CommandAction.POSITION: _position,
    CommandAction.UNLINK: _unlink,
    CommandAction.MERGE: _merge,
    CommandAction.CLOSE: _close,
    CommandAction.NOTE: _note,
    CommandAction.RELOCATE: _relocate,
}


def _handler(action: CommandAction) -> Callable[[_Changes], str]:
    if action in HANDLERS:
        return HANDLERS[action]
    from dispatch import mci_commands  # the MCI commands build on this module's _Changes

    return {
        CommandAction.MCI_LEVEL: mci_commands.mci_level,
        CommandAction.TRIAGE: mci_commands.triage,
        CommandAction.STAGING: mci_commands.staging,
        CommandAction.DISTRIBUTE: mci_commands.distribute_patients,
    }[action]


def apply_command(
    session: Session, command: Command, *, now: datetime, mci: MciServices | None = None
) -> Applied:
    """Apply ``command`` once within the caller's transaction (``mci``: what the MCI
    commands need of the road network and the ERs; without it they do what they can)."""
    done = session.get(CommandRow, command.id)
    if done is not None:
        result = CommandResult(
            command_id=done.id,
            ok=done.ok,
            reason=done.reason,
            incident_id=done.incident_id,
            applied_at=done.applied_at,
        )
        return Applied(result)
    changes = _Changes(session, command, now, mci)
    savepoint = session.begin_nested()
    try:
        outcome = _handler(command.action)(changes)
        savepoint.commit()
        ok, reason = True, outcome
    except CommandRefusedError as refused:
        savepoint.rollback()
        changes = _Changes(session, command, now)
        ok, reason = False, str(refused)
    session.add(
        CommandRow(
            id=command.id,
            at=command.at,
            actor=command.actor,
            action=command.action.value,
            incident_id=command.incident_id,
            ok=ok,
            reason=reason,
            applied_at=now,
            payload=command.model_dump(mode="json"),
        )
    )
    session.flush()
    for row in changes.incidents.values():
        session.refresh(row)
    return Applied(
        result=CommandResult(
            command_id=command.id,
            ok=ok,
            reason=reason,
            incident_id=command.incident_id,
            applied_at=now,
        ),
        incidents=[incident_record(r) for r in changes.incidents.values()],
        units=[unit_record(r) for r in changes.units.values()],
        timeline=[timeline_record(t) for t in changes.timeline],
    )
