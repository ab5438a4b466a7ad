"""Units' routes: planned at dispatch, stored with the unit, re-planned around closures.

A unit on its way (dispatched or en route, with an incident) carries the route it drives in
``units.route`` (a :class:`~goldentime.contracts.routing.UnitRoute`, with its destination: the
incident, or for an ambulance of a mass-casualty incident its staging point, 집결지, once one is
set: :func:`destination_of`); the API, the ``units``
topic and the demo crews read it from there. When a closure comes, every such unit whose route
*from where it is now* (planned as if the closure were not there) uses a closed edge gets a new
route avoiding it, and its incident's timeline says ``re-routed around <structure> (+N s)``.
All functions run in the worker's store thread (they use the road network).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.incident_store import IncidentRow, TimelineRow, UnitRow, timeline_record
from dispatch.mci_store import MciRow
from dispatch.structure_closures import ClosureBook
from goldentime.contracts import TimelineEntry
from goldentime.contracts.dispatch import UnitStatus
from goldentime.contracts.routing import Edge, RouteDestination, UnitRoute
from routing import RoadNetwork, Route, RoutingError

log = logging.getLogger(__name__)

ON_THE_WAY = (UnitStatus.DISPATCHED.value, UnitStatus.EN_ROUTE.value)


STAGING_LABEL = "집결지 / staging point"
SCENE_LABEL = "현장 / incident"


def destination_of(session: Session, unit: UnitRow, incident: IncidentRow) -> RouteDestination:
    """Where ``unit`` drives for ``incident``: an ambulance of a mass-casualty incident with a
    staging point set goes to the staging point (집결지), where the transport officer gives it
    its patients; every other unit goes to the incident's location."""
    if unit.kind == "ambulance":
        mci = session.get(MciRow, incident.id)
        if mci is not None and mci.staging_lat is not None and mci.staging_lon is not None:
            return RouteDestination(
                kind="staging", lat=mci.staging_lat, lon=mci.staging_lon, label=STAGING_LABEL
            )
    return RouteDestination(kind="incident", lat=incident.lat, lon=incident.lon, label=SCENE_LABEL)


def plan(
    network: RoadNetwork,
    unit: UnitRow,
    incident: IncidentRow,
    *,
    now: datetime,
    reason: str,
    destination: RouteDestination | None = None,
    avoids: list[str] | None = None,
    revision: int = 1,
) -> tuple[UnitRoute, Route]:
    """The fastest open route from the unit's position to ``destination`` (default: the
    incident's location); RoutingError if none."""
    to = destination or RouteDestination(
        kind="incident", lat=incident.lat, lon=incident.lon, label=SCENE_LABEL
    )
    route = network.route((unit.lat, unit.lon), (to.lat, to.lon), vehicle=unit.kind)
    return (
        UnitRoute(
            incident_id=incident.id,
            computed_at=now,
            eta_s=round(route.eta_s, 1),
            distance_m=round(route.distance_m, 1),
            geometry=route.geometry,
            edges=list(route.edges),
            streets=route.streets,
            reason=reason,
            avoids=avoids or [],
            revision=revision,
            destination=to,
        ),
        route,
    )


def _same_place(route: dict[str, Any], to: RouteDestination) -> bool:
    """Whether a stored route already ends at ``to`` (routes without a destination ended at
    the incident)."""
    stored = route.get("destination") or {"kind": "incident"}
    if stored.get("kind") != to.kind:
        return False
    return to.kind == "incident" or (stored.get("lat"), stored.get("lon")) == (to.lat, to.lon)


def _touch(unit: UnitRow, now: datetime) -> None:
    unit.revision += 1
    unit.updated_at = now


def sync_routes(
    session: Session, network: RoadNetwork, unit_ids: list[str], *, now: datetime
) -> list[UnitRow]:
    """Give units newly on their way a route; drop the route of units no longer on their way;
    re-plan the route of a unit whose destination moved (an MCI's staging point set or moved).

    Returns the units it changed (their state is re-published). Idempotent.
    """
    changed: list[UnitRow] = []
    for unit in session.scalars(select(UnitRow).where(UnitRow.id.in_(unit_ids))):
        on_the_way = unit.status in ON_THE_WAY and unit.incident_id is not None
        current = unit.route
        if not on_the_way:
            if current is not None:
                unit.route = None
                _touch(unit, now)
                changed.append(unit)
            continue
        same_incident = current is not None and current.get("incident_id") == unit.incident_id
        if same_incident and unit.kind != "ambulance":
            continue  # only an ambulance's destination can move (the staging point)
        incident = session.get(IncidentRow, unit.incident_id)
        if incident is None:
            continue
        to = destination_of(session, unit, incident)
        if current is not None and same_incident:
            if _same_place(current, to):
                continue
            reason = f"to the {to.label}: set or moved after dispatch"
        else:
            reason = "dispatched" if to.kind == "incident" else f"dispatched to the {to.label}"
        try:
            planned, _ = plan(network, unit, incident, now=now, reason=reason, destination=to)
        except RoutingError as err:
            log.warning("no route for %s to %s: %s", unit.id, incident.id, err)
            continue
        unit.route = planned.model_dump(mode="json")
        _touch(unit, now)
        changed.append(unit)
    return changed


@dataclass
class Rerouted:
    units: list[UnitRow] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)


def _uses(route_edges: list[Edge], closed: set[Edge]) -> bool:
    return any(tuple(e) in closed for e in route_edges)


def _log(
    session: Session, entry_id: str, incident_id: str, detail: str, at: datetime
) -> TimelineEntry | None:
    if session.scalar(select(TimelineRow.seq).where(TimelineRow.id == entry_id)) is not None:
        return None
    row = TimelineRow(
        id=entry_id, incident_id=incident_id, at=at, kind="unit_rerouted", detail=detail,
        actor="routing",
    )  # fmt: skip
    session.add(row)
    session.flush()
    return timeline_record(row)


def reroute_around(
    session: Session,
    book: ClosureBook,
    closure_id: str,
    *,
    structure_name: str,
    now: datetime,
) -> Rerouted:
    """Re-plan every unit on its way whose route from here crosses ``closure_id``'s edges.

    The closure must be applied to ``book`` already; the "before" route of each unit is
    planned with the closure lifted, so a redelivered alarm finds the same units (and the
    timeline line, keyed by closure and unit, is written once).
    """
    out = Rerouted()
    closed = set(book.edges_of(closure_id))
    if not closed:
        return out
    pairs = session.execute(
        select(UnitRow, IncidentRow)
        .join(IncidentRow, UnitRow.incident_id == IncidentRow.id)
        .where(UnitRow.status.in_(ON_THE_WAY))
        .order_by(UnitRow.id)
    ).tuples()
    todo = list(pairs)
    before: dict[str, Route] = {}
    with book.lifted(closure_id):
        for unit, incident in todo:
            try:
                to = destination_of(session, unit, incident)
                _, route = plan(
                    book.network, unit, incident, now=now, reason="probe", destination=to
                )
            except RoutingError:
                continue
            if _uses(list(route.edges), closed):
                before[unit.id] = route
    for unit, incident in todo:
        if unit.id not in before or closure_id in (unit.route or {}).get("avoids", []):
            continue
        revision = int((unit.route or {}).get("revision", 0)) + 1
        avoids = sorted({*(unit.route or {}).get("avoids", []), closure_id})
        entry_id = f"{incident.id}:reroute:{closure_id}:{unit.id}"
        try:
            planned, _ = plan(
                book.network, unit, incident, now=now, avoids=avoids, revision=revision,
                reason=f"re-routed around {structure_name}",
                destination=destination_of(session, unit, incident),
            )  # fmt: skip
        except RoutingError as err:
            detail = f"{unit.name}: no open route around {structure_name}: {err}"
            entry = _log(session, entry_id, incident.id, detail, now)
            if entry is not None:
                out.timeline.append(entry)
            continue
        delta = planned.eta_s - before[unit.id].eta_s
        unit.route = planned.model_dump(mode="json")
        _touch(unit, now)
        out.units.append(unit)
        detail = (
            f"{unit.name} re-routed around {structure_name} ({delta:+.0f} s): "
            f"ETA {planned.eta_s:.0f} s via {' → '.join(planned.streets[:4]) or 'unnamed roads'}"
        )
        entry = _log(session, entry_id, incident.id, detail, now)
        if entry is not None:
            out.timeline.append(entry)
    return out
