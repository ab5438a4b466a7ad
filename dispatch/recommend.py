"""Recommendation: fill the incident's run card with the available units that arrive first.

One reverse search per vehicle class from the incident gives every unit's ETA (routing); the
run card is then filled kind by kind, fastest first. A golden-time breach is flagged when no
recommended unit reaches the scene within the type's travel budget (5 min; 4 min for cardiac
arrest), and the next nearest units are proposed as mutual aid. EMS types also get the
emergency room that the ambulance reaches first (a regional or local centre for cardiac
arrest).

Cost (it runs on the store thread, so it shows in call -> recommendation latency): only the
run card's kinds are ranked, within `FIRST_CUTOFF_S` first (a fraction of the graph), and only
the shown units get routes. The result is always that of ranking every unit within
`ETA_CUTOFF_S` (tests/unit/dispatch/test_recommend.py keeps the plain computation to compare).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.catalog import Catalog, TypeRule
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
# Ranked first within this (a search of a fraction of the graph): the golden-time budget is
# 300 s, so nearly every run card fills, mutual aid included, well within it.
FIRST_CUTOFF_S = 400.0
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


@functools.lru_cache(maxsize=4096)
def _position(unit: AvailableUnit) -> UnitPosition:
    """The routing position of a unit (validated once: units are ranked for every incident)."""
    return UnitPosition(unit.unit_id, unit.lat, unit.lon, vehicle=unit.kind, name=unit.name)


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


def _crow_eta(incident: Incident, hospital: Hospital) -> float:
    return distance_m(incident.lat, incident.lon, hospital.lat, hospital.lon) / FALLBACK_SPEED_MPS


def hospital_etas(
    incident: Incident, hospitals: Sequence[Hospital], network: RoadNetwork
) -> list[float]:
    """Ambulance ETA (s) from the incident to each hospital, without a search per query.

    The fastest road route's time (`RoadNetwork.etas_from`: each hospital's search is kept
    until the roads change); a crow-flight estimate at `FALLBACK_SPEED_MPS` for a hospital
    with no route (off the road graph, or cut off by closures).
    """
    try:
        etas = network.etas_from(
            (incident.lat, incident.lon), [(h.lat, h.lon) for h in hospitals], vehicle="ambulance"
        )
    except RoutingError:  # a bad coordinate: route each on its own, as `routed_hospital_etas`
        return routed_hospital_etas(incident, hospitals, network)
    return [
        _crow_eta(incident, h) if eta is None else eta
        for eta, h in zip(etas, hospitals, strict=True)
    ]


def routed_hospital_etas(
    incident: Incident, hospitals: Sequence[Hospital], network: RoadNetwork
) -> list[float]:
    """`hospital_etas` the straightforward way: one full route per hospital (the reference)."""
    etas = []
    for hospital in hospitals:
        try:
            eta = network.route(
                (incident.lat, incident.lon), (hospital.lat, hospital.lon), vehicle="ambulance"
            ).eta_s
        except RoutingError:
            eta = _crow_eta(incident, hospital)
        etas.append(eta)
    return etas


def _hospital(
    incident: Incident, hospitals: Sequence[Hospital], network: RoadNetwork
) -> RecommendedHospital | None:
    if not hospitals:
        return None
    centres_only = incident.type is IncidentType.CARDIAC_ARREST
    pool = [h for h in hospitals if h.is_centre] if centres_only else list(hospitals)
    pool = pool or list(hospitals)
    pool.sort(key=lambda h: distance_m(incident.lat, incident.lon, h.lat, h.lon))
    candidates = pool[:HOSPITAL_CANDIDATES]
    best: tuple[float, Hospital] | None = None
    for eta, hospital in zip(hospital_etas(incident, candidates, network), candidates, strict=True):
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


@dataclass(frozen=True, slots=True)
class _Pick:
    """The run card filled from a ranking (fastest first), before any route is built."""

    chosen: list[tuple[UnitEta, AvailableUnit]]
    aid: list[tuple[UnitEta, AvailableUnit]]
    unfilled: dict[str, int]
    first: float | None  # the fastest chosen ETA as shown (0.1 s)
    breach: bool

    @property
    def settled(self) -> bool:
        """True when units beyond the ranking's cutoff cannot change this pick.

        They are all slower than every ranked unit, so they matter only for a kind left
        unfilled or a mutual-aid list shorter than `MUTUAL_AID_COUNT`.
        """
        return not self.unfilled and (not self.breach or len(self.aid) >= MUTUAL_AID_COUNT)


def _pick(ranked: Sequence[UnitEta], by_id: dict[str, AvailableUnit], rule: TypeRule) -> _Pick:
    chosen: list[tuple[UnitEta, AvailableUnit]] = []
    spare: list[tuple[UnitEta, AvailableUnit]] = []
    need = dict(rule.run_card)
    for eta in ranked:  # fastest first; unreachable last
        unit = by_id[eta.unit_id]
        if eta.eta_s is not None and need.get(unit.kind, 0) > 0:
            chosen.append((eta, unit))
            need[unit.kind] -= 1
        elif eta.eta_s is not None:
            spare.append((eta, unit))
    unfilled: dict[str, int] = {kind: n for kind, n in need.items() if n > 0}
    etas = [round(e.eta_s, 1) for e, _ in chosen if e.eta_s is not None]
    first = min(etas) if etas else None
    breach = first is None or first > rule.golden_time_travel_s
    aid: list[tuple[UnitEta, AvailableUnit]] = []
    if breach or unfilled:
        wanted = set(unfilled) or set(rule.run_card)
        aid = [(e, u) for e, u in spare if u.kind in wanted][:MUTUAL_AID_COUNT]
    return _Pick(chosen, aid, unfilled, first, breach)


def recommend(
    incident: Incident,
    units: Sequence[AvailableUnit],
    *,
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: Sequence[Hospital],
    now: datetime,
) -> Recommendation:
    """The recommendation for ``incident`` from the currently available ``units``.

    Units are ranked within `FIRST_CUTOFF_S` first (a cheaper search); only when that leaves
    the pick unsettled (`_Pick.settled`) are they ranked again within `ETA_CUTOFF_S`. Either
    way the result is the one of ranking within `ETA_CUTOFF_S` at once.
    """
    rule = catalog[incident.type]
    budget = rule.golden_time_travel_s
    by_id = {u.unit_id: u for u in units}
    # Only the run card's kinds are ever shown (chosen or mutual aid): rank only those.
    positions = [_position(u) for u in units if u.kind in rule.run_card]
    try:
        pick = _pick([], by_id, rule)
        for cutoff in (FIRST_CUTOFF_S, ETA_CUTOFF_S):
            if not positions:
                break
            ranked = network.etas(
                (incident.lat, incident.lon),
                positions,
                cutoff_s=cutoff,
                top_n_routes=len(positions),
                reuse=True,  # open incidents are recomputed as units come and go
            )
            pick = _pick(ranked, by_id, rule)
            if pick.settled:
                break
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
    notes = []
    if pick.unfilled:
        notes.append(
            "unfilled: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(pick.unfilled.items()))
            + "; request mutual aid from neighbouring stations"
        )
    if pick.breach:
        notes.append(f"no unit within the {budget / 60:.0f}-minute travel budget")
    return Recommendation(
        id=f"{incident.id}:r{incident.revision}",
        incident_id=incident.id,
        incident_revision=incident.revision,
        computed_at=now,
        units=[_recommended(u, e, budget) for e, u in pick.chosen],
        unfilled=pick.unfilled,
        golden_time_breach=pick.breach,
        first_eta_s=pick.first,
        mutual_aid=[_recommended(u, e, budget) for e, u in pick.aid],
        hospital=_hospital(incident, hospitals, network) if rule.needs_hospital else None,
        note="; ".join(notes),
    )
