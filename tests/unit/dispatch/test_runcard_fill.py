"""`recommend()` must give the straightforward computation's answer, only cheaper.

The reference below is the plain algorithm: rank every available unit within the full
cutoff, fill the run card fastest first, build every shown route, and route to each candidate
emergency room on its own. The optimised path ranks only the run card's kinds, within a short
cutoff first, reuses searches, and ranks emergency rooms from cached searches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch.catalog import Catalog, load_catalog
from dispatch.cells import distance_m
from dispatch.context import fleet_for, gu_locator, road_network
from dispatch.hospitals import Hospital, load_hospitals
from dispatch.replay import SEOUL, generate_replay
from dispatch.runcard_fill import (
    ETA_CUTOFF_S,
    FIRST_CUTOFF_S,
    HOSPITAL_CANDIDATES,
    MUTUAL_AID_COUNT,
    AvailableUnit,
    hospital_etas,
    recommend,
    routed_hospital_etas,
)
from goldentime.contracts import Incident, IncidentStatus, IncidentType
from goldentime.settings import load_settings
from routing import RoadNetwork, RoutingError, UnitPosition

NOW = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def network() -> RoadNetwork:
    return road_network(load_settings())


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(load_settings().dispatch.run_cards_file)


@pytest.fixture(scope="module")
def hospitals() -> list[Hospital]:
    return load_hospitals(load_settings().data.seoul_dir / "hospitals" / "emergency_rooms.csv")


@pytest.fixture(scope="module")
def units(network: RoadNetwork) -> list[AvailableUnit]:
    fleet = fleet_for(network, load_settings().data.seoul_dir / "units" / "fire_units.csv")
    return [AvailableUnit(v.unit_id, v.name, v.kind, v.station_name, v.lat, v.lon) for v in fleet]


def _incident(n: int, kind: IncidentType, lat: float, lon: float) -> Incident:
    return Incident(
        id=f"inc-{n}", type=kind, status=IncidentStatus.OPEN, lat=lat, lon=lon,
        call_ids=[f"call-{n}"], created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@functools.cache
def _in_seoul() -> Callable[[float, float], bool]:
    locate = gu_locator(load_settings().data.seoul_dir)
    return lambda lat, lon: locate(lat, lon) is not None


def _replay_incidents(count: int, seed: int) -> list[Incident]:
    """Replay incidents all over the city (inside the 25 gu, 강동구 included)."""
    calls = generate_replay(count, seed=seed, box=SEOUL, within=_in_seoul()).calls
    return [_incident(i, c.type, c.lat, c.lon) for i, c in enumerate(calls)]


def _reference(
    incident: Incident,
    units: Sequence[AvailableUnit],
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: Sequence[Hospital],
) -> dict[str, Any]:
    """The plain algorithm, as a dict of what a recommendation shows."""
    rule = catalog[incident.type]
    budget = rule.golden_time_travel_s
    by_id = {u.unit_id: u for u in units}
    positions = [UnitPosition(u.unit_id, u.lat, u.lon, vehicle=u.kind) for u in units]
    ranked = network.etas(
        (incident.lat, incident.lon), positions, cutoff_s=ETA_CUTOFF_S, top_n_routes=len(units)
    )
    chosen, spare, need = [], [], dict(rule.run_card)
    for eta in ranked:
        unit = by_id[eta.unit_id]
        if eta.eta_s is not None and need.get(unit.kind, 0) > 0:
            chosen.append((eta, unit))
            need[unit.kind] -= 1
        elif eta.eta_s is not None:
            spare.append((eta, unit))
    unfilled = {kind: n for kind, n in need.items() if n > 0}
    etas = [round(e.eta_s, 1) for e, _ in chosen if e.eta_s is not None]
    first = min(etas) if etas else None
    breach = first is None or first > budget
    aid = []
    if breach or unfilled:
        wanted = set(unfilled) or set(rule.run_card)
        aid = [(e, u) for e, u in spare if u.kind in wanted][:MUTUAL_AID_COUNT]

    def shown(pairs: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (u.unit_id, round(e.eta_s, 1), round(e.distance_m, 1), e.route.geometry)
            for e, u in pairs
        ]

    hospital = None
    if rule.needs_hospital:
        pool = [h for h in hospitals if h.is_centre]
        if incident.type is not IncidentType.CARDIAC_ARREST or not pool:
            pool = list(hospitals)
        pool.sort(key=lambda h: distance_m(incident.lat, incident.lon, h.lat, h.lon))
        candidates = pool[:HOSPITAL_CANDIDATES]
        options = routed_hospital_etas(incident, candidates, network)
        best = min(range(len(candidates)), key=lambda i: (options[i], i))
        hospital = (candidates[best].hospital_id, options[best])
    return {
        "units": shown(chosen),
        "mutual_aid": shown(aid),
        "unfilled": unfilled,
        "breach": breach,
        "first": first,
        "hospital": hospital,
    }


def _shown(rec: Any) -> dict[str, Any]:
    def units(items: list[Any]) -> list[tuple[Any, ...]]:
        return [(u.unit_id, u.eta_s, u.distance_m, u.route) for u in items]

    return {
        "units": units(rec.units),
        "mutual_aid": units(rec.mutual_aid),
        "unfilled": rec.unfilled,
        "breach": rec.golden_time_breach,
        "first": rec.first_eta_s,
        "hospital": (rec.hospital.hospital_id, rec.hospital.eta_s) if rec.hospital else None,
    }


def _assert_same(got: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    hospital, reference_hospital = got.pop("hospital"), expected.pop("hospital")
    assert got == expected, what
    assert (hospital is None) == (reference_hospital is None), what
    if hospital is not None:
        assert hospital[0] == reference_hospital[0], what
        assert abs(hospital[1] - reference_hospital[1]) <= 0.1, what


def _check(
    incidents: list[Incident],
    units: list[AvailableUnit],
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: list[Hospital],
) -> int:
    """Compare every incident; return how many had a route (the rest are off the network)."""
    routed = 0
    for incident in incidents:
        got = recommend(
            incident, units, network=network, catalog=catalog, hospitals=hospitals, now=NOW
        )
        try:
            expected = _reference(incident, units, network, catalog, hospitals)
        except RoutingError:
            assert got.units == [] and got.note.startswith("no route to the incident")
            continue
        routed += 1
        _assert_same(
            _shown(got), expected, f"{incident.type.value} at {incident.lat, incident.lon}"
        )
    return routed


def test_replay_incidents_match_the_straightforward_computation(
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: list[Hospital],
    units: list[AvailableUnit],
) -> None:
    incidents = _replay_incidents(60, seed=100)
    assert {i.type for i in incidents} >= {
        IncidentType.CARDIAC_ARREST, IncidentType.EMS, IncidentType.BUILDING_FIRE,
        IncidentType.TRAFFIC_COLLISION,
    }  # fmt: skip
    assert _check(incidents, units, network, catalog, hospitals) >= 50


def test_a_thin_fleet_falls_back_to_the_full_search(
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: list[Hospital],
    units: list[AvailableUnit],
) -> None:
    incidents = [_incident(i, kind, 37.5759, 126.9768) for i, kind in enumerate(IncidentType)]
    far = [u for u in units if distance_m(37.5759, 126.9768, u.lat, u.lon) > 3500]
    assert _check(incidents, far, network, catalog, hospitals) == len(incidents)
    fire = recommend(
        incidents[0], far, network=network, catalog=catalog, hospitals=hospitals, now=NOW
    )
    shown = [u.eta_s for u in fire.units + fire.mutual_aid if u.eta_s is not None]
    assert max(shown) > FIRST_CUTOFF_S  # beyond the first search: the full one was needed
    assert len(fire.mutual_aid) == MUTUAL_AID_COUNT


def test_closures_near_an_incident_change_the_answer_at_once(
    catalog: Catalog, hospitals: list[Hospital], units: list[AvailableUnit]
) -> None:
    network = road_network(load_settings())  # closures below: not the shared one
    incident = _incident(1, IncidentType.CARDIAC_ARREST, 37.5665, 126.9780)
    before = recommend(
        incident, units, network=network, catalog=catalog, hospitals=hospitals, now=NOW
    )
    closure = network.close_radius((37.5680, 126.9780), 150, reason="collapse")
    _check([incident], units, network, catalog, hospitals)
    during = recommend(
        incident, units, network=network, catalog=catalog, hospitals=hospitals, now=NOW
    )
    assert _shown(during) != _shown(before)
    network.reopen(closure)
    assert _shown(
        recommend(incident, units, network=network, catalog=catalog, hospitals=hospitals, now=NOW)
    ) == _shown(before)


def test_hospital_etas_equal_one_route_each(
    network: RoadNetwork, hospitals: list[Hospital]
) -> None:
    incidents = _replay_incidents(25, seed=5)
    # Every Seoul ER is on the city network; one across the border in Incheon is not (crow flight)
    offside = Hospital("X-INCHEON", "off the network", "지역응급의료기관", 37.4563, 126.7052)
    candidates = [*hospitals, offside]
    for incident in incidents:
        fast = hospital_etas(incident, candidates, network)
        plain = routed_hospital_etas(incident, candidates, network)
        assert fast == pytest.approx(plain, abs=0.1)
    routed = [h for h in candidates if _placed(network, h)]
    assert routed == hospitals  # routed and crow-flight ones are both compared


def _placed(network: RoadNetwork, hospital: Hospital) -> bool:
    try:
        network.endpoint((hospital.lat, hospital.lon), vehicle="ambulance")
    except RoutingError:
        return False
    return True


def test_gangdong_is_answered_by_approach_legs_and_says_so(
    network: RoadNetwork,
    catalog: Catalog,
    hospitals: list[Hospital],
    units: list[AvailableUnit],
) -> None:
    """강동구 is not in the Seoul node-link network: its incidents and stations are joined to it
    by an estimated approach leg, and the recommendation says so."""
    assert {u.station_name for u in units} >= {"고덕119안전센터", "강일119안전센터"}
    gangil = _incident(1, IncidentType.BUILDING_FIRE, 37.5580, 127.1720)  # 강일동
    rec = recommend(gangil, units, network=network, catalog=catalog, hospitals=hospitals, now=NOW)
    assert rec.units and rec.first_eta_s is not None
    assert "estimated approach leg off the road network" in rec.note
    city_hall = _incident(2, IncidentType.BUILDING_FIRE, 37.5665, 126.9780)
    rec = recommend(city_hall, units, network=network, catalog=catalog, hospitals=hospitals,
                    now=NOW)  # fmt: skip
    assert rec.units and "approach" not in rec.note


def test_an_unfilled_kind_alone_is_ranked_again(
    catalog: Catalog,
    hospitals: list[Hospital],
    units: list[AvailableUnit],
) -> None:
    """Engines within reach, the nearest rescue trucks far: only rescue trucks are ranked again
    over the whole city, and the answer is still that of ranking every unit at once."""
    network = road_network(load_settings())  # its etas are watched below: not the shared one
    fire = _incident(1, IncidentType.BUILDING_FIRE, 37.5665, 126.9780)
    fleet = [u for u in units if u.kind != "rescue" or distance_m(fire.lat, fire.lon, u.lat,
                                                                   u.lon) > 6000]  # fmt: skip
    ranked_kinds: list[set[str]] = []
    etas = network.etas

    def watched(*args: Any, **kwargs: Any) -> Any:
        ranked_kinds.append({p.vehicle for p in args[1]})
        return etas(*args, **kwargs)

    network.etas = watched  # type: ignore[method-assign]
    rec = recommend(fire, fleet, network=network, catalog=catalog, hospitals=hospitals, now=NOW)
    assert not rec.golden_time_breach and rec.unfilled == {}
    assert ranked_kinds[0] == set(catalog[fire.type].run_card) and ranked_kinds[1:] == [{"rescue"}]
    network.etas = etas  # type: ignore[method-assign]
    assert _check([fire], fleet, network, catalog, hospitals) == 1
