"""The commands of a mass-casualty incident: mci_level, triage, staging, distribute.

Applied once each by ``dispatch.commands.apply_command`` (the commands table is the audit
trail); a command that cannot be applied is refused with the reason. ``mci_level`` is a
supervisor's confirmation (the console checks the role): it records the level and sends the
free ambulances of the level's scope, nearest first by road, to the staging point (대응 1단계:
the station area; 2단계: the neighbouring stations; 3단계: the city). ``distribute`` spreads the
triaged patients not placed yet over emergency rooms by ETA from the staging point and the
ERs' capacities (``dispatch.patients.distribute``); each assignment goes on the timeline.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dispatch.hospitals import Hospital
from dispatch.incident_store import IncidentRow, UnitRow
from dispatch.mci_stations import StationAreas, load_jurisdictions
from dispatch.mci_store import TRIAGE_COLUMNS, MciRow, PatientRow
from dispatch.patients import ErCapacity, PatientAssignment, distribute, er_capacities
from dispatch.reroute import ON_THE_WAY
from dispatch.surge_intake import proposal_of, triage_of
from goldentime.contracts import IncidentStatus
from goldentime.contracts.dispatch import UnitStatus
from goldentime.errors import ContractError
from routing import RoadNetwork
from routing.errors import RoutingError
from routing.values import UnitPosition

if TYPE_CHECKING:
    from dispatch.commands import _Changes

# How far by road (ETA from the staging point) a level reaches for ambulances when the station
# area is not known (no station with ambulances): 1 about a first-due travel, 2 the
# neighbouring stations', 3 the whole city. With it, the level's stations are the scope
# (StationArea.scope: 1 the jurisdiction's, 2 and its neighbours', 3 the city) within the
# city's bound.
LEVEL_SCOPE_S: dict[int, float] = {1: 480.0, 2: 900.0, 3: 3_600.0}
# Never send more than this share of the city's free ambulances to one incident: the rest of
# Seoul keeps calling (what 3단계 adds beyond it is mutual aid from outside the city).
MAX_FLEET_SHARE = 0.5
TRANSPORTED = ("red", "yellow", "green")

ErEtas = Callable[[tuple[float, float], Sequence[tuple[float, float]]], list[float | None]]
# (unit id, ETA s or None), fastest first
UnitEtas = Callable[[tuple[float, float], Sequence[UnitPosition]], list[tuple[str, float | None]]]


@dataclass(frozen=True)
class MciServices:
    """What the MCI commands need beyond the database (built once per worker)."""

    ers: Sequence[ErCapacity]
    er_etas: ErEtas  # staging point -> ETA (s) of each ER, None when unreachable
    unit_etas: UnitEtas  # staging point <- ETA of each unit, fastest first
    # whose units each level commits, by road (the intake's level proposals use it too)
    station_areas: StationAreas = field(default_factory=StationAreas)


def mci_services(
    network: RoadNetwork,
    hospitals: Sequence[Hospital],
    *,
    overrides: dict[str, int] | None = None,
    units_csv: Path | None = None,
) -> MciServices:
    """The services on the road network: ambulance ETAs to ERs and from units, and station
    areas (their 소방서 from ``units_csv``, data/seoul/units/fire_units.csv)."""

    def er_etas(
        origin: tuple[float, float], points: Sequence[tuple[float, float]]
    ) -> list[float | None]:
        return network.etas_from(origin, points, vehicle="ambulance")

    def unit_etas(
        at: tuple[float, float], units: Sequence[UnitPosition]
    ) -> list[tuple[str, float | None]]:
        ranked = network.etas(at, units, cutoff_s=max(LEVEL_SCOPE_S.values()), top_n_routes=0)
        return [(e.unit_id, e.eta_s) for e in ranked]

    return MciServices(
        ers=er_capacities(hospitals, overrides=overrides),
        er_etas=er_etas,
        unit_etas=unit_etas,
        station_areas=StationAreas(
            network, load_jurisdictions(units_csv) if units_csv is not None else {}
        ),
    )


def _refused(reason: str) -> Exception:
    from dispatch.commands import CommandRefusedError

    return CommandRefusedError(reason)


def _mci(c: _Changes) -> tuple[IncidentRow, MciRow]:
    incident = c.incident(c.command.incident_id)
    row = c.session.get(MciRow, incident.id)
    if row is None:
        raise _refused(f"{incident.id} is not a mass-casualty incident")
    return incident, row


def _scene(incident: IncidentRow, row: MciRow) -> tuple[float, float]:
    """The staging point, else the incident's location."""
    if row.staging_lat is not None and row.staging_lon is not None:
        return row.staging_lat, row.staging_lon
    return incident.lat, incident.lon


def _scene_words(row: MciRow) -> str:
    """Where the ambulances go, in the timeline's words."""
    if row.staging_lat is not None and row.staging_lon is not None:
        return f"the staging point (집결지) {row.staging_lat:.5f},{row.staging_lon:.5f}"
    return "the incident's location (no staging point set yet)"


def mci_level(c: _Changes) -> str:
    level = c.command.level
    assert level is not None  # the contract requires it for this action
    incident, row = _mci(c)
    row.confirmed_level, row.confirmed_by, row.confirmed_at = level, c.command.actor, c.command.at
    row.updated_at = c.now
    c.touch_incident(incident)
    c.log(
        incident.id,
        "level_confirmed",
        f"대응 {level}단계 confirmed by {c.command.actor} (proposed: {row.proposed_level})",
    )
    sent = _send_ambulances(c, incident, row, level)
    return f"level {level} confirmed; {sent}"


def _needed(c: _Changes, incident: IncidentRow, row: MciRow) -> int:
    patients = max(row.casualty_estimate, row.red + row.yellow + row.green)
    on_it = c.session.scalar(
        select(func.count())
        .select_from(UnitRow)
        .where(UnitRow.incident_id == incident.id, UnitRow.kind == "ambulance")
    )
    return max(0, patients - int(on_it or 0))


def _send_ambulances(c: _Changes, incident: IncidentRow, row: MciRow, level: int) -> str:
    """Free ambulances of the level's scope to the staging point, nearest first."""
    needed = _needed(c, incident, row)
    services = c.mci
    if needed == 0:
        return "no more ambulances needed"
    if services is None:
        return "ambulances not assigned (no road network in this process)"
    free = c.session.scalars(
        select(UnitRow)
        .where(UnitRow.kind == "ambulance", UnitRow.status == UnitStatus.AVAILABLE.value)
        .order_by(UnitRow.id)
    ).all()
    cap = max(0, math.floor(len(free) * MAX_FLEET_SHARE))
    by_id = {u.id: u for u in free}
    staging = _scene(incident, row)
    try:
        ranked = services.unit_etas(
            staging,
            [UnitPosition(u.id, u.lat, u.lon, vehicle="ambulance", name=u.name) for u in free],
        )
    except RoutingError as err:
        return f"ambulances not assigned: {err}"
    # the incident's station area (where it is, not where the ambulances gather)
    area = services.station_areas(c.session, incident.lat, incident.lon)
    stations = area.scope(level) if area is not None else None
    scope = LEVEL_SCOPE_S[level] if area is None else LEVEL_SCOPE_S[3]
    whose = area.scope_words(level) if area is not None else f"within {scope / 60:.0f} min by road"
    chosen = [
        (by_id[unit_id], eta)
        for unit_id, eta in ranked
        if eta is not None
        and eta <= scope
        and unit_id in by_id
        and (stations is None or by_id[unit_id].station_id in stations)
    ][: min(needed, cap)]
    for unit, _eta in chosen:
        unit.status, unit.incident_id = UnitStatus.DISPATCHED.value, incident.id
        c.touch_unit(unit)
    if not chosen:
        return f"no free ambulance of {whose} reaches the staging point"
    if incident.status == IncidentStatus.OPEN.value:
        incident.status = IncidentStatus.DISPATCHED.value
    incident.dispatched_at = incident.dispatched_at or c.command.at
    names = ", ".join(f"{u.name} ({eta / 60:.1f} min)" for u, eta in chosen if eta is not None)
    c.log(
        incident.id,
        "units_dispatched",
        f"대응 {level}단계 ({whose}): {len(chosen)} of {needed} ambulances needed sent to "
        f"{_scene_words(row)}: {names}"[:2000],
    )
    where = "the staging point" if row.staging_lat is not None else "the incident"
    return f"{len(chosen)} ambulance(s) to {where}"


def triage(c: _Changes) -> str:
    counts = c.command.triage
    assert counts is not None  # the contract requires it for this action
    incident, row = _mci(c)
    row.red, row.yellow, row.green, row.black = (
        counts.red,
        counts.yellow,
        counts.green,
        counts.black,
    )
    row.updated_at = c.now
    c.touch_incident(incident)
    text = ", ".join(f"{t} {getattr(counts, t)}" for t in TRIAGE_COLUMNS)
    c.log(incident.id, "triage", f"START triage from the scene: {text}")
    _propose_again(c, incident, row)
    return text


def _propose_again(c: _Changes, incident: IncidentRow, row: MciRow) -> None:
    """The scene's counts may call for a higher level than the calls did: propose it."""
    _estimate, proposal = proposal_of(
        c.session,
        incident.id,
        centre=(row.lat, row.lon),
        calls_per_10min=round(row.calls_in_window * 600.0 / row.window_s),
        triage=triage_of(row),
        station_areas=c.mci.station_areas if c.mci is not None else None,
    )
    if proposal.level > row.proposed_level:
        row.proposed_level, row.proposed_reason = proposal.level, proposal.reason
        row.proposed_at = c.command.at
        c.log(incident.id, "level_proposed", f"level proposed: {proposal.reason}")


def staging(c: _Changes) -> str:
    lat, lon = c.command.lat, c.command.lon
    assert lat is not None and lon is not None  # the contract requires them
    incident, row = _mci(c)
    row.staging_lat, row.staging_lon, row.updated_at = lat, lon, c.now
    c.touch_incident(incident)
    c.log(incident.id, "staging", f"staging point {lat:.5f},{lon:.5f} {c.command.note}".strip())
    # Its ambulances still on their way drive to the new point: touched, their routes are
    # re-planned (dispatch.reroute.sync_routes) and their states re-published.
    moving = c.session.scalars(
        select(UnitRow)
        .where(
            UnitRow.incident_id == incident.id,
            UnitRow.kind == "ambulance",
            UnitRow.status.in_(ON_THE_WAY),
        )
        .order_by(UnitRow.id)
    ).all()
    for unit in moving:
        c.touch_unit(unit)
    if moving:
        return f"staging point set; {len(moving)} ambulance(s) on their way re-routed to it"
    return "staging point set"


def _remaining(row: MciRow, placed: Sequence[PatientRow]) -> dict[str, int]:
    done = Counter(p.triage for p in placed)
    return {t: max(0, getattr(row, t) - done[t]) for t in TRANSPORTED}


def _er_table(services: MciServices, origin: tuple[float, float]) -> list[tuple[ErCapacity, float]]:
    try:
        etas = services.er_etas(origin, [(e.lat, e.lon) for e in services.ers])
    except RoutingError as err:
        raise _refused(f"no ETAs to the emergency rooms: {err}") from err
    return [
        (er, math.inf if eta is None else eta) for er, eta in zip(services.ers, etas, strict=True)
    ]


def distribute_patients(c: _Changes) -> str:
    incident, row = _mci(c)
    services = c.mci
    if services is None:
        raise _refused("patient distribution needs the road network (a dispatch worker)")
    placed = c.session.scalars(
        select(PatientRow).where(PatientRow.incident_id == incident.id)
    ).all()
    remaining = _remaining(row, placed)
    if not any(remaining.values()):
        raise _refused("no triaged patient left to place: enter START counts from the scene")
    try:
        assigned = distribute(
            remaining,
            _er_table(services, _scene(incident, row)),
            already=Counter(p.er_id for p in placed),
            first_patient=max((p.patient for p in placed), default=0) + 1,
        )
    except ContractError as err:
        raise _refused(str(err)) from err
    capacity = {e.er_id: e.capacity for e in services.ers}
    for a in assigned:
        _record(c, incident.id, a, capacity.get(a.er_id, 0))
    row.updated_at = c.now
    c.touch_incident(incident)
    return f"{len(assigned)} patient(s) assigned to {len({a.er_id for a in assigned})} ER(s)"


def _record(c: _Changes, incident_id: str, a: PatientAssignment, capacity: int) -> None:
    c.session.add(
        PatientRow(
            incident_id=incident_id,
            patient=a.patient,
            triage=a.triage,
            er_id=a.er_id,
            er_name=a.er_name,
            eta_s=a.eta_s,
            er_capacity=capacity,
            reason=a.reason,
            at=c.command.at,
            command_id=c.command.id,
        )
    )
    c.log(
        incident_id,
        "patient_assigned",
        f"patient {a.patient} ({a.triage}) -> {a.er_name}: {a.reason}",
        suffix=f":{a.patient}",
    )
