"""`RoadNetwork.etas_from`: one search's ETAs must be those of one `route()` per destination."""

from __future__ import annotations

import numpy as np
import pytest

from routing import RoadNetwork, RoutingError

from .conftest import GWANGHWAMUN, SEOUL_STATION

TOLERANCE_S = 0.1


def _bounds(net: RoadNetwork) -> tuple[float, float, float, float]:
    ys = [d["y"] for _, d in net.graph.nodes(data=True)]
    xs = [d["x"] for _, d in net.graph.nodes(data=True)]
    return min(ys), max(ys), min(xs), max(xs)


def _destinations(net: RoadNetwork, seed: int) -> list[tuple[float, float]]:
    """Points inside the graph, just outside it (approach legs) and far away (no route)."""
    rng = np.random.default_rng(seed)
    lat0, lat1, lon0, lon1 = _bounds(net)
    inside = [(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for _ in range(12)]
    km_lat, km_lon = 1 / 111.32, 1 / 88.2
    outside = [
        (lat1 + 1.2 * km_lat, (lon0 + lon1) / 2),  # north of the graph
        ((lat0 + lat1) / 2, lon0 - 1.5 * km_lon),  # west
        (lat0 - 0.8 * km_lat, lon1 + 0.8 * km_lon),  # south-east corner
    ]
    far = [(lat1 + 20 * km_lat, lon1)]
    return [*inside, *outside, *far]


def _routed(
    net: RoadNetwork, origin: tuple[float, float], points: list[tuple[float, float]], vehicle: str
) -> list[float | None]:
    result: list[float | None] = []
    for point in points:
        try:
            result.append(net.route(origin, point, vehicle=vehicle).eta_s)
        except RoutingError:
            result.append(None)
    return result


def _assert_close(got: list[float | None], expected: list[float | None]) -> None:
    assert len(got) == len(expected)
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        assert (a is None) == (b is None), f"destination {i}: {a} vs route() {b}"
        if a is not None and b is not None:
            assert abs(a - b) <= TOLERANCE_S, f"destination {i}: {a} vs route() {b}"


@pytest.mark.parametrize("vehicle", ["ambulance", "ladder"])
def test_etas_equal_one_route_per_destination(central: RoadNetwork, vehicle: str) -> None:
    points = _destinations(central, seed=7)
    kinds = {type(central.endpoint(p, vehicle=vehicle)).__name__ for p in points[:-1]}
    assert kinds == {"Anchor", "Approach"}  # both kinds of destination are exercised
    for origin in (GWANGHWAMUN, SEOUL_STATION, points[3]):
        got = central.etas_from(origin, points, vehicle=vehicle)
        _assert_close(got, _routed(central, origin, points, vehicle))
        assert got[-1] is None  # 20 km away: off the network
        assert all(eta is not None for eta in got[:-1])


def test_origin_off_the_graph_routes_each_destination(central: RoadNetwork) -> None:
    points = _destinations(central, seed=11)
    origin = points[12]  # north of the graph: an approach leg
    assert type(central.endpoint(origin, vehicle="ambulance")).__name__ == "Approach"
    got = central.etas_from(origin, points, vehicle="ambulance")
    _assert_close(got, _routed(central, origin, points, "ambulance"))
    far = points[-1]
    assert central.etas_from(far, points[:3], vehicle="ambulance") == [None, None, None]


def test_closures_invalidate_the_cached_searches(fresh_central: RoadNetwork) -> None:
    net = fresh_central
    points = _destinations(net, seed=3)[:12]
    before = net.etas_from(SEOUL_STATION, points, vehicle="ambulance")  # caches every search
    route = net.route(SEOUL_STATION, points[0], vehicle="ambulance")
    middle = route.edges[len(route.edges) // 2]
    closure = net.close_edges([middle], reason="crash")
    during = net.etas_from(SEOUL_STATION, points, vehicle="ambulance")
    _assert_close(during, _routed(net, SEOUL_STATION, points, "ambulance"))
    assert during[0] is not None and before[0] is not None and during[0] > before[0]
    net.reopen(closure)
    assert net.etas_from(SEOUL_STATION, points, vehicle="ambulance") == before


def test_a_destination_cut_off_by_closures_has_no_eta(fresh_central: RoadNetwork) -> None:
    net = fresh_central
    segment = net.snap(GWANGHWAMUN, vehicle="engine").segment
    own = set(net.index.arcs_of_segment(segment))
    ends = {int(net.compiled.arc_u[a]) for a in own} | {int(net.compiled.arc_v[a]) for a in own}
    entering = [
        net.compiled.edges[a]
        for a in range(net.compiled.n_arcs)
        if int(net.compiled.arc_v[a]) in ends and a not in own
    ]
    net.close_edges(entering, reason="cordon")  # the road stays open, nothing leads to it
    got = net.etas_from(SEOUL_STATION, [GWANGHWAMUN, SEOUL_STATION], vehicle="engine")
    with pytest.raises(RoutingError, match="no open road"):
        net.route(SEOUL_STATION, GWANGHWAMUN, vehicle="engine")
    assert got[0] is None and got[1] is not None
    net.close_radius(SEOUL_STATION, 700, reason="cordon")  # no open road within the snap limit
    with pytest.raises(RoutingError):
        net.route(GWANGHWAMUN, SEOUL_STATION, vehicle="engine")
    assert net.etas_from(GWANGHWAMUN, [SEOUL_STATION], vehicle="engine") == [None]


def test_validation(central: RoadNetwork) -> None:
    assert central.etas_from(GWANGHWAMUN, [], vehicle="engine") == []
    with pytest.raises(RoutingError, match="destination 1"):
        central.etas_from(GWANGHWAMUN, [SEOUL_STATION, (95.0, 0.0)], vehicle="engine")
    with pytest.raises(RoutingError, match="origin"):
        central.etas_from((float("nan"), 0.0), [SEOUL_STATION], vehicle="engine")
    with pytest.raises(RoutingError, match="vehicle"):
        central.etas_from(GWANGHWAMUN, [SEOUL_STATION], vehicle="bicycle")
