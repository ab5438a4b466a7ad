"""Recommendation: fill the incident's run card with the available units that arrive first.

One reverse search per vehicle class from the incident gives every unit's ETA (routing); the
run card is then filled kind by kind, fastest first. A golden-time breach is flagged when no
recommended unit reaches the scene within the type's travel budget (5 min; 4 min for cardiac
arrest), and the next nearest units are proposed as mutual aid. EMS types also get the
emergency room that the ambulance reaches first (a regional or local centre for cardiac
arrest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.catalog import Catalog
from dispatch.cells import distance_m
from dispatch.hospitals import Hospital
from goldentime.contracts import Incident, IncidentType
from goldentime.contracts.dispatch import (
    Recommendation,
    RecommendedHospital,
    RecommendedUnit,
    UnitKind,
)
from routing import RoadNetwork, RoutingError, UnitEta, UnitPosition

ETA_CUTOFF_S = 1800.0
MUTUAL_AID_COUNT = 3
HOSPITAL_CANDIDATES = 4
FALLBACK_SPEED_MPS = 30 / 3.6  # crow-flight estimate when a hospital is off the road graph


@dataclass(frozen=True, slots=True)
class AvailableUnit:
    unit_id: str
    name: str
    kind: UnitKind
    station_name: str
    lat: float
    lon: float


def _recommended(unit: AvailableUnit, eta: UnitEta, budget_s: float) -> RecommendedUnit:
    route = eta.route
    return RecommendedUnit(
        unit_id=unit.unit_id,
        name=unit.name,
        kind=unit.kind,
        station_name=unit.station_name,
        eta_s=None if eta.eta_s is None else round(eta.eta_s, 1),
        distance_m=None if eta.distance_m is None else round(eta.distance_m, 1),
        within_golden_time=eta.eta_s is not None and eta.eta_s <= budget_s,
        route=route.geometry if route is not None else None,
    )


def _hospital(
    incident: Incident, hospitals: Sequence[Hospital], network: RoadNetwork
) -> RecommendedHospital | None:
    if not hospitals:
        return None
    centres_only = incident.type is IncidentType.CARDIAC_ARREST
    pool = [h for h in hospitals if h.is_centre] if centres_only else list(hospitals)
    pool = pool or list(hospitals)
    pool.sort(key=lambda h: distance_m(incident.lat, incident.lon, h.lat, h.lon))
    best: tuple[float, Hospital] | None = None
    for hospital in pool[:HOSPITAL_CANDIDATES]:
        try:
            eta = network.route(
                (incident.lat, incident.lon), (hospital.lat, hospital.lon), vehicle="ambulance"
            ).eta_s
        except RoutingError:
            eta = distance_m(incident.lat, incident.lon, hospital.lat, hospital.lon)
            eta /= FALLBACK_SPEED_MPS
        if best is None or eta < best[0]:
            best = (eta, hospital)
    if best is None:
        return None
    eta, chosen = best
    return RecommendedHospital(
        hospital_id=chosen.hospital_id,
        name=chosen.name,
        level=chosen.level,
        lat=chosen.lat,
        lon=chosen.lon,
        eta_s=round(eta, 1),
    )


def recommend(
    incident: Incident,
    units: Sequence[AvailableUnit],
    *,
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: Sequence[Hospital],
    now: datetime,
) -> Recommendation:
    """The recommendation for ``incident`` from the currently available ``units``."""
    rule = catalog[incident.type]
    budget = rule.golden_time_travel_s
    by_id = {u.unit_id: u for u in units}
    positions = [UnitPosition(u.unit_id, u.lat, u.lon, vehicle=u.kind, name=u.name) for u in units]
    try:
        ranked = (
            network.etas(
                (incident.lat, incident.lon),
                positions,
                cutoff_s=ETA_CUTOFF_S,
                top_n_routes=len(positions),
            )
            if positions
            else []
        )
    except RoutingError as err:
        return Recommendation(
            id=f"{incident.id}:r{incident.revision}",
            incident_id=incident.id,
            incident_revision=incident.revision,
            computed_at=now,
            units=[],
            unfilled=dict(rule.run_card),
            golden_time_breach=True,
            first_eta_s=None,
            note=f"no route to the incident: {err}",
        )
    chosen: list[RecommendedUnit] = []
    spare: list[tuple[UnitEta, AvailableUnit]] = []
    unfilled: dict[str, int] = {}
    need = dict(rule.run_card)
    for eta in ranked:  # fastest first; unreachable last
        unit = by_id[eta.unit_id]
        if eta.eta_s is not None and need.get(unit.kind, 0) > 0:
            chosen.append(_recommended(unit, eta, budget))
            need[unit.kind] -= 1
        elif eta.eta_s is not None:
            spare.append((eta, unit))
    unfilled = {kind: n for kind, n in need.items() if n > 0}
    etas = [u.eta_s for u in chosen if u.eta_s is not None]
    first = min(etas) if etas else None
    breach = first is None or first > budget
    aid: list[RecommendedUnit] = []
    if breach or unfilled:
        wanted = set(unfilled) or set(rule.run_card)
        aid = [_recommended(u, e, budget) for e, u in spare if u.kind in wanted]
        aid = aid[:MUTUAL_AID_COUNT]
    notes = []
    if unfilled:
        notes.append(
            "unfilled: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(unfilled.items()))
            + "; request mutual aid from neighbouring stations"
        )
    if breach:
        notes.append(f"no unit within the {budget / 60:.0f}-minute travel budget")
    return Recommendation(
        id=f"{incident.id}:r{incident.revision}",
        incident_id=incident.id,
        incident_revision=incident.revision,
        computed_at=now,
        units=chosen,
        unfilled=unfilled,
        golden_time_breach=breach,
        first_eta_s=first,
        mutual_aid=aid,
        hospital=_hospital(incident, hospitals, network) if rule.needs_hospital else None,
        note="; ".join(notes),
    )
