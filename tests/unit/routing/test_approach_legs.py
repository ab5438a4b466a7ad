"""The approach model: units off the road graph enter it by an estimated leg."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import RoadNetwork, SnapError, UnitPosition
from routing import reference as ref
from routing.approach_legs import APPROACH_NOTE, DETOUR_FACTOR, Approach, ApproachRules
from routing.fire_units import load_fire_units

from .conftest import GWANGHWAMUN, random_network

SEODAEMUN_HQ = "1123000"  # 서대문소방서, ~1.4 km west of the graph's roads
NEAR_WEST_EDGE = (37.5800, 126.9530)


def _by_id(units: list[UnitPosition], unit_id: str) -> UnitPosition:
    return next(u for u in units if u.unit_id == unit_id)


def test_load_fire_units_includes_stations_within_the_approach_radius(central) -> None:
    inside = load_fire_units(inside=central)
    near = load_fire_units(inside=central, approach_m=3000)
    assert {u.unit_id for u in inside} < {u.unit_id for u in near}
    assert SEODAEMUN_HQ in {u.unit_id for u in near} - {u.unit_id for u in inside}
    for unit in near:
        start = central.endpoint((unit.lat, unit.lon), vehicle=unit.vehicle)
        if isinstance(start, Approach):
            assert central.max_snap_m / 5 < start.road_distance_m <= 3000
    with pytest.raises(Exception, match="approach radius"):
        load_fire_units(inside=central, approach_m=5000)


def test_off_graph_unit_gets_an_estimated_eta_and_a_route_from_its_station(central) -> None:
    unit = _by_id(load_fire_units(inside=central, approach_m=3000), SEODAEMUN_HQ)
    [eta] = central.etas(NEAR_WEST_EDGE, [unit], cutoff_s=1800)
    assert eta.eta_s is not None and eta.note is not None and eta.note.startswith(APPROACH_NOTE)
    route = eta.route
    assert route is not None and route.estimated
    assert route.geometry["coordinates"][0] == [unit.lon, unit.lat]  # starts at the station
    assert math.isclose(route.eta_s, eta.eta_s, rel_tol=1e-9)
    assert math.isclose(route.distance_m, eta.distance_m or 0.0, rel_tol=1e-9)
    # the same answer from route(), which the crews drive
    direct = central.route((unit.lat, unit.lon), NEAR_WEST_EDGE, vehicle=unit.vehicle)
    assert math.isclose(direct.eta_s, eta.eta_s, rel_tol=1e-9)
    assert direct.geometry["coordinates"][0] == [unit.lon, unit.lat]
    # and back home: in-graph route to an exit, then the leg out to the station
    back = central.route(NEAR_WEST_EDGE, (unit.lat, unit.lon), vehicle=unit.vehicle)
    assert back.estimated and back.geometry["coordinates"][-1] == [unit.lon, unit.lat]


def test_approach_is_never_faster_than_the_in_graph_route_from_its_entry(central) -> None:
    unit = _by_id(load_fire_units(inside=central, approach_m=3000), SEODAEMUN_HQ)
    start = central.endpoint((unit.lat, unit.lon), vehicle=unit.vehicle)
    assert isinstance(start, Approach)
    [eta] = central.etas(GWANGHWAMUN, [unit], cutoff_s=1800)
    assert eta.eta_s is not None and eta.route is not None
    entry = eta.route.geometry["coordinates"][1]  # the entry node
    inside = central.route((entry[1], entry[0]), GWANGHWAMUN, vehicle=unit.vehicle)
    leg = eta.route.approach_s
    assert leg > 0
    assert eta.eta_s >= inside.eta_s + leg - 1e-6
    # the leg is crow-flight x detour at the vehicle's primary-road speed
    crow = central.index.point_metres(unit.lat, unit.lon).distance(
        central.index.point_metres(entry[1], entry[0])
    )
    speed = central.speeds.metres_per_second("primary", unit.vehicle)
    assert math.isclose(leg, crow * DETOUR_FACTOR / speed, rel_tol=1e-3)
    # and no faster than driving in the graph from every candidate entry plus its leg
    for node, seconds in zip(start.nodes[:5], start.seconds[:5], strict=True):
        data = central.graph.nodes[int(central.compiled.node_ids[node])]
        via = central.route((data["y"], data["x"]), GWANGHWAMUN, vehicle=unit.vehicle).eta_s
        assert eta.eta_s <= seconds + via + 1.0  # +1 s: a node snaps onto a road beside it


def test_eta_is_monotone_in_the_distance_from_the_graph(central) -> None:
    incident = (37.5700, 126.9600)
    lat0, lon0 = 37.5700, 126.9420  # ~800 m west of the graph's west edge
    positions = [(lat0, lon0 - 0.002 * i) for i in range(12)]  # moving west, up to ~2.9 km
    units = [UnitPosition(f"w{i}", lat, lon) for i, (lat, lon) in enumerate(positions)]
    etas = {e.unit_id: e.eta_s for e in central.etas(incident, units, cutoff_s=3600)}
    values = [etas[f"w{i}"] for i in range(12)]
    reached = [v for v in values if v is not None]
    assert len(reached) >= 8
    assert reached == sorted(reached)
    assert values[-1] is None or values[-1] > values[0] + 60


def test_beyond_the_approach_radius_stays_unreachable(central) -> None:
    far = UnitPosition("far", 37.5700, 126.9000)  # ~4 km west
    [eta] = central.etas(GWANGHWAMUN, [far], cutoff_s=3600)
    assert eta.eta_s is None and eta.note is not None and "approach radius" in eta.note
    with pytest.raises(SnapError, match="approach radius 3,000 m"):
        central.route((37.5700, 126.9000), GWANGHWAMUN)


def test_approach_can_be_switched_off() -> None:
    graph = random_network(3, 12, 10).graph
    net = RoadNetwork(graph, approach=ApproachRules(approach_m=0.0))
    ys = [d["y"] for _, d in net.graph.nodes(data=True)]
    with pytest.raises(SnapError, match="limit 500 m"):
        net.endpoint((max(ys) + 0.01, 126.985))


def test_coverage_places_off_graph_units(central) -> None:
    unit = _by_id(load_fire_units(inside=central, approach_m=3000), SEODAEMUN_HQ)
    model = central.coverage([UnitPosition(unit.unit_id, unit.lat, unit.lon)], minutes=5)
    assert not model.unplaced and model.covered_share > 0.0


approach_graphs = st.tuples(st.integers(0, 10_000), st.integers(4, 25), st.integers(0, 40))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=approach_graphs, seed=st.integers(0, 1000), n_units=st.integers(1, 6))
def test_off_graph_etas_equal_networkx(graph, seed, n_units) -> None:
    g = random_network(*graph).graph
    net = RoadNetwork(g, approach=ApproachRules(approach_m=3000.0))
    rng = np.random.default_rng(seed)
    ys = [d["y"] for _, d in net.graph.nodes(data=True)]
    xs = [d["x"] for _, d in net.graph.nodes(data=True)]
    incident = (float(np.mean(ys)), float(np.mean(xs)))
    units = []
    for i in range(n_units):  # 0.6-2.5 km outside the graph's bounding box, any side
        angle = rng.uniform(0, 2 * np.pi)
        reach = rng.uniform(0.006, 0.022)
        units.append(UnitPosition(f"u{i}", incident[0] + reach * np.sin(angle),
                                  incident[1] + 1.25 * reach * np.cos(angle)))  # fmt: skip
    ranked = net.etas(incident, units, cutoff_s=3600)
    expected = ref.unit_etas(net, incident, units, cutoff_s=3600)
    for item in ranked:
        got, want = item.eta_s, expected[item.unit_id]
        assert (got is None) == (want is None), item
        if got is not None and want is not None:
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)
            start = net.endpoint(
                (units[int(item.unit_id[1:])].lat, units[int(item.unit_id[1:])].lon)
            )
            assert (item.note is not None) == isinstance(start, Approach)
        if item.route is not None and got is not None:
            assert math.isclose(item.route.eta_s, got, rel_tol=1e-9, abs_tol=1e-6)
            route_cost = ref.route_cost(net, (item.route.origin), incident)
            assert route_cost is not None and math.isclose(route_cost, got, rel_tol=1e-9)
