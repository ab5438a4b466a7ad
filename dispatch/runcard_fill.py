"""Recommendation: fill the incident's run card with the available units that arrive first.

One reverse search per vehicle class from the incident gives every unit's ETA (routing); the
run card is then filled kind by kind, fastest first. A golden-time breach is flagged when no
recommended unit reaches the scene within the type's travel budget (5 min; 4 min for cardiac
arrest), and the next nearest units are proposed as mutual aid. EMS types also get the
emergency room that the ambulance reaches first (a regional or local centre for cardiac
arrest).

Cost (it runs on the store thread, so it shows in call -> recommendation latency): only the
run card's kinds are ranked, within `FIRST_CUTOFF_S` first (a fraction of the graph), then,
while that leaves the pick unsettled, only the kinds that can still change it
(`_kinds_to_rerank`: on the Seoul network mostly the sparse rescue trucks and ladders) within
`WIDER_CUTOFFS_S` (15 min, then `ETA_CUTOFF_S`); only the shown units get routes. The result is
always that of ranking every unit within `ETA_CUTOFF_S` (tests/unit/dispatch/test_recommend.py
keeps the plain computation to compare).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dispatch.catalog import Catalog, TypeRule
from dispatch.cells import distance_m
from dispatch.hospitals import Hospital
from goldentime.contracts import Incident, IncidentStatus, IncidentType
from goldentime.contracts.dispatch import (
    Recommendation,
    RecommendedHospital,
    RecommendedUnit,
    UnitKind,
)
from routing import RoadNetwork, RoutingError, UnitEta, UnitPosition
from routing.approach_legs import APPROACH_NOTE

ETA_CUTOFF_S = 1800.0
# Ranked first within this (a search of a fraction of the graph): the golden-time budget is
# 300 s, so nearly every run card fills, mutual aid included, well within it.
FIRST_CUTOFF_S = 400.0
# Then, for an unsettled pick, the kinds that can change it: within 15 min (nearly every pick
# on the city network settles there), and only then over the whole `ETA_CUTOFF_S`.
WIDER_CUTOFFS_S = (900.0, ETA_CUTOFF_S)
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


class AvailableFleet:
    """The available units, prepared once for many incidents (an immutable sequence).

    With 400+ units city-wide, indexing them and deriving their routing positions per
    incident costs milliseconds; the recommender computes many incidents against the same
    units, so it passes one of these (`recommend` accepts a plain sequence too).
    """

    def __init__(self, units: Iterable[AvailableUnit]) -> None:
        self.units: tuple[AvailableUnit, ...] = tuple(units)
        self.by_id = {u.unit_id: u for u in self.units}
        self._positions: dict[frozenset[str], list[UnitPosition]] = {}

    def __len__(self) -> int:
        return len(self.units)

    def positions(self, kinds: Iterable[str]) -> list[UnitPosition]:
        """The routing positions of the units of ``kinds`` (the same list for the same kinds)."""
        key = frozenset(kinds)
        found = self._positions.get(key)
        if found is None:
            found = self._positions[key] = [_position(u) for u in self.units if u.kind in key]
        return found


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


def _rank(
    incident: Incident, positions: list[UnitPosition], network: RoadNetwork, cutoff_s: float
) -> list[UnitEta]:
    return network.etas(
        (incident.lat, incident.lon),
        positions,
        cutoff_s=cutoff_s,
        top_n_routes=len(positions),
        reuse=True,  # open incidents are recomputed as units come and go
    )


def _kinds_to_rerank(pick: _Pick, rule: TypeRule) -> set[str]:
    """The kinds whose units beyond the first cutoff can change an unsettled pick.

    A kind filled within the first cutoff keeps its units (anything beyond is slower), and the
    breach flag cannot change (every unit beyond the cutoff is over the travel budget). Without
    a breach only the unfilled kinds can change (mutual aid, if any, is drawn from the kinds
    still unfilled). On a breach mutual aid is drawn from the whole run card once every kind is
    filled, so every kind is ranked again.
    """
    if pick.settled:
        return set()
    return set(rule.run_card) if pick.breach else set(pick.unfilled)


def _merge(
    first: list[UnitEta], wider: list[UnitEta], by_id: dict[str, AvailableUnit], again: set[str]
) -> list[UnitEta]:
    """One ranking: the kinds ranked again from ``wider``, the others from ``first``.

    Fastest first, ties by unit id, unreachable last (the order of ranking all at once).
    """
    kept = [e for e in first if by_id[e.unit_id].kind not in again]
    return sorted(
        kept + wider,
        key=lambda e: (e.eta_s is None, 0.0 if e.eta_s is None else e.eta_s, e.unit_id),
    )


def _estimated(pick: _Pick) -> str:
    """Which shown ETAs include an estimated approach leg off the road network ("" if none).

    An incident or a station farther than the snap limit from every road of the network (on
    the Seoul network: 강동구, whose roads the node-link cut lacks) is joined to it by a leg
    estimated from the straight-line distance (routing.approach_legs); the dispatcher must know.
    """
    names = [u.name for e, u in pick.chosen + pick.aid if e.note and APPROACH_NOTE in e.note]
    if not names:
        return ""
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (
        f"ETA of {shown} includes an estimated approach leg off the road network "
        "(roads not in the network, e.g. 강동구 on the Seoul network)"
    )


WARM_UP_AT = (37.5665, 126.9780)  # 서울시청: anywhere on the network does


def warm_up(
    units: Iterable[AvailableUnit],
    *,
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: Sequence[Hospital],
    now: datetime,
) -> None:
    """Do at start-up what the first recommendations would do on their own time: place every
    unit on the network (cached anchors and approach legs), group the fleet per run card and
    search once per vehicle class. City-wide that is several hundred ms, which would otherwise
    land on the first calls' latency."""
    fleet = AvailableFleet(sorted(units, key=lambda u: u.unit_id))  # the recommender's order
    for n, kind in enumerate(IncidentType):
        incident = Incident(
            id=f"warm-up-{n}", type=kind, status=IncidentStatus.OPEN, lat=WARM_UP_AT[0],
            lon=WARM_UP_AT[1], call_ids=["warm-up"], created_at=now, updated_at=now,
        )  # fmt: skip
        recommend(incident, fleet, network=network, catalog=catalog, hospitals=hospitals, now=now)


def recommend(
    incident: Incident,
    units: Sequence[AvailableUnit] | AvailableFleet,
    *,
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: Sequence[Hospital],
    now: datetime,
) -> Recommendation:
    """The recommendation for ``incident`` from the currently available ``units``.

    Units are ranked within `FIRST_CUTOFF_S` first (a cheaper search); only while that leaves
    the pick unsettled (`_Pick.settled`) are the units of the kinds that can change it ranked
    again within each of `WIDER_CUTOFFS_S`. Either way the result is the one of ranking within
    `ETA_CUTOFF_S` at once.
    """
    rule = catalog[incident.type]
    budget = rule.golden_time_travel_s
    fleet = units if isinstance(units, AvailableFleet) else AvailableFleet(units)
    by_id = fleet.by_id
    # Only the run card's kinds are ever shown (chosen or mutual aid): rank only those.
    positions = fleet.positions(rule.run_card)
    try:
        pick = _pick([], by_id, rule)
        if positions:
            ranked = _rank(incident, positions, network, FIRST_CUTOFF_S)
            pick = _pick(ranked, by_id, rule)
            for cutoff in WIDER_CUTOFFS_S:
                again = _kinds_to_rerank(pick, rule)
                if not again:
                    break
                wider = _rank(incident, fleet.positions(again), network, cutoff)
                ranked = _merge(ranked, wider, by_id, again)
                pick = _pick(ranked, by_id, rule)
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
    estimated = _estimated(pick)
    if estimated:
        notes.append(estimated)
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
