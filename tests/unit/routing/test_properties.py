"""Property tests: every fast answer equals plain networkx on the same weights."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import VEHICLE_CLASSES, RoadNetwork, UnitPosition
from routing import reference as ref
from routing.errors import UnreachableError

from .conftest import random_network, random_points

graphs = st.tuples(st.integers(0, 10_000), st.integers(4, 25), st.integers(0, 40)).map(
    lambda t: random_network(*t)
)
common = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@common
@given(
    net=graphs,
    seed=st.integers(0, 1000),
    n_units=st.integers(1, 8),
    cutoff=st.sampled_from([60.0, 300.0, 900.0]),
    vehicle=st.sampled_from(VEHICLE_CLASSES),
)
def test_eta_all_units_equals_networkx(net, seed, n_units, cutoff, vehicle) -> None:
    pts = random_points(net, seed, n_units + 1)
    units = [UnitPosition(f"u{i}", *p, vehicle=vehicle) for i, p in enumerate(pts[1:])]
    ranked = net.etas(pts[0], units, cutoff_s=cutoff)
    expected = ref.unit_etas(net, pts[0], units, cutoff_s=cutoff)
    assert {e.unit_id: e.eta_s for e in ranked}.keys() == expected.keys()
    for item in ranked:
        assert close(item.eta_s, expected[item.unit_id]), item
    etas = [e.eta_s for e in ranked]
    reached = [e for e in etas if e is not None]
    assert reached == sorted(reached)
    assert etas[: len(reached)] == reached  # unreachable listed last
    for item in ranked[:3]:
        if item.eta_s is not None:
            assert item.route is not None
            assert math.isclose(item.route.eta_s, item.eta_s, rel_tol=1e-9, abs_tol=1e-6)
            assert math.isclose(item.route.distance_m, item.distance_m or 0.0, abs_tol=1e-6)


@common
@given(net=graphs, seed=st.integers(0, 1000), metric=st.sampled_from(["time", "distance"]))
def test_route_equals_networkx(net, seed, metric) -> None:
    a, b = random_points(net, seed, 2)
    expected = ref.route_cost(net, a, b, metric=metric)
    route = net.route(a, b, metric=metric)
    got = route.eta_s if metric == "time" else route.distance_m
    assert close(got, expected)
    for (_u1, v1, _), (u2, _, _) in zip(route.edges, route.edges[1:], strict=False):
        assert v1 == u2  # edges chain into a path


@common
@given(
    net=graphs,
    seed=st.integers(0, 1000),
    n_units=st.integers(0, 6),
    minutes=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_full_coverage_equals_networkx(net, seed, n_units, minutes) -> None:
    units = [UnitPosition(f"u{i}", *p) for i, p in enumerate(random_points(net, seed, n_units))]
    model = net.coverage(units, minutes=minutes)
    assert math.isclose(
        model.covered_share, ref.coverage_share(net, units, minutes=minutes), abs_tol=1e-9
    )


@common
@given(
    net=graphs,
    seed=st.integers(0, 1000),
    n_units=st.integers(1, 6),
    toggles=st.lists(st.integers(0, 5), min_size=1, max_size=8),
    minutes=st.sampled_from([0.5, 1.0, 3.0]),
)
def test_incremental_coverage_equals_full_recompute(net, seed, n_units, toggles, minutes) -> None:
    units = [UnitPosition(f"u{i}", *p) for i, p in enumerate(random_points(net, seed, n_units))]
    model = net.coverage(units, minutes=minutes)
    available = {u.unit_id: True for u in units}
    for t in toggles:
        unit_id = units[t % n_units].unit_id
        available[unit_id] = not available[unit_id]
        model.set_available(unit_id, available[unit_id])
        live = [u for u in units if available[u.unit_id]]
        expected = ref.coverage_share(net, live, minutes=minutes)
        assert math.isclose(model.covered_share, expected, abs_tol=1e-9)
        fresh = net.coverage(live, minutes=minutes)
        assert math.isclose(model.covered_length_m, fresh.covered_length_m, abs_tol=1e-6)


@common
@given(net=graphs, seed=st.integers(0, 1000), data=st.data())
def test_closures_change_answers_like_networkx(net, seed, data) -> None:
    edges = sorted(net.graph.edges(keys=True))
    closed = data.draw(st.lists(st.sampled_from(edges), max_size=6, unique=True))
    pts = random_points(net, seed, 4)
    units = [UnitPosition(f"u{i}", *p) for i, p in enumerate(pts[1:])]
    closure = net.close_edges(closed, reason="test") if closed else None
    try:
        expected = ref.unit_etas(net, pts[0], units)
    except Exception as err:  # snapping failed for every road: engine must fail alike
        with pytest.raises(type(err)):
            net.etas(pts[0], units)
    else:
        got = {e.unit_id: e.eta_s for e in net.etas(pts[0], units)}
        assert all(close(got[k], expected[k]) for k in expected)
        closed_set = set(closed)
        for e in net.etas(pts[0], units):
            if e.route is not None:
                assert not closed_set & set(e.route.edges)
    if closure:
        net.reopen(closure)
    assert not net.closures_geojson()["features"]


def test_unreachable_destination_is_a_routing_error() -> None:
    graph = nx.MultiDiGraph()
    coords = [(37.560, 126.980), (37.560, 126.985), (37.565, 126.985), (37.565, 126.980)]
    for i, (lat, lon) in enumerate(coords):
        graph.add_node(i, y=lat, x=lon)
    for i in range(4):  # a one-way ring
        graph.add_edge(i, (i + 1) % 4, length=500.0, highway="residential", oneway=True)
    net = RoadNetwork(graph)
    origin, destination = (37.5600, 126.9825), (37.5650, 126.9825)  # mid (0,1), mid (2,3)
    assert net.route(origin, destination).eta_s > 0
    closure = net.close_edges([(1, 2, 0)], reason="crash")
    with pytest.raises(UnreachableError, match="no open road path"):
        net.route(origin, destination)
    net.reopen(closure)
    assert net.route(origin, destination).edges[1] == (1, 2, 0)
