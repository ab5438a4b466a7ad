"""Vehicle restrictions and scene access on small hand-made graphs (no routing needed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import pytest

from firemap.access import (
    VEHICLE_SPECS,
    DevicePoint,
    VehicleSpec,
    apply_to,
    edge_widths,
    estimate_width,
    vehicle_restrictions,
)
from firemap.scene_access import RoadAccess

# A street grid near Seoul City Hall; 0.0009 deg lat ~ 100 m, 0.00113 deg lon ~ 100 m.
LAT0, LON0 = 37.5600, 126.9800
DLAT, DLON = 0.0009, 0.00113


def node(graph: nx.MultiDiGraph, n: int, row: float, col: float) -> None:
    graph.add_node(n, x=LON0 + col * DLON, y=LAT0 + row * DLAT)


def road(graph: nx.MultiDiGraph, u: int, v: int, highway: str, **attrs: object) -> None:
    for a, b in ((u, v), (v, u)):
        graph.add_edge(
            a,
            b,
            key=0,
            length=100.0,
            highway=highway,
            name=f"{highway}-{u}-{v}",
            lanes=attrs.get("lanes"),
            width=attrs.get("width"),
        )


@pytest.fixture
def grid() -> nx.MultiDiGraph:
    """1 -secondary- 2 -secondary- 3 ; 2 -residential- 4 -living_street- 5 ; 3 -service- 6."""
    g = nx.MultiDiGraph()
    for n, (r, c) in {1: (0, 0), 2: (0, 1), 3: (0, 2), 4: (1, 1), 5: (2, 1), 6: (1, 2)}.items():
        node(g, n, r, c)
    road(g, 1, 2, "secondary")
    road(g, 2, 3, "secondary")
    road(g, 2, 4, "residential")
    road(g, 4, 5, "living_street")
    road(g, 3, 6, "service")
    return g


def test_required_widths_follow_the_documented_rule() -> None:
    widths = {n: s.required_width_m for n, s in VEHICLE_SPECS.items()}
    assert widths == {"engine": 3.5, "ladder": 4.3, "rescue": 3.5, "ambulance": 3.0, "command": 2.9}
    assert VEHICLE_SPECS["ladder"].required_width_main_road_m == 3.5


def test_ladder_length_limit_applies_on_minor_roads_only(grid: nx.MultiDiGraph) -> None:
    for key in ((1, 2, 0), (2, 1, 0), (2, 4, 0), (4, 2, 0)):
        grid.edges[key]["lanes"] = 1  # 4.0 m: a 12 m ladder fits a one-lane main road only
    r = vehicle_restrictions(grid)
    assert edges((2, 4)) <= r["ladder"] and not edges((1, 2)) & r["ladder"]
    assert not edges((1, 2), (2, 4)) & r["engine"]


@pytest.mark.parametrize(
    ("attrs", "width", "basis"),
    [
        ({"highway": "residential", "width": 2.8}, 2.8, "width tag"),
        ({"highway": "residential", "width": "['4', '2.5']"}, 2.5, "width tag"),
        ({"highway": "tertiary", "lanes": 2}, 7.0, "lanes"),
        ({"highway": "secondary", "lanes": "['4', '1']"}, 4.0, "lanes"),
        ({"highway": "living_street"}, 3.5, "highway class"),
        ({"highway": "['secondary', 'service']"}, 3.0, "highway class"),
        ({"highway": "something_new"}, 5.0, "highway class"),
    ],
)
def test_estimate_width(attrs: dict[str, object], width: float, basis: str) -> None:
    estimate = estimate_width(attrs)
    assert (estimate.width_m, estimate.basis) == (width, basis)


def edges(*pairs: tuple[int, int]) -> frozenset[tuple[int, int, int]]:
    return frozenset((u, v, 0) for a, b in pairs for u, v in ((a, b), (b, a)))


def test_classes_without_devices(grid: nx.MultiDiGraph) -> None:
    r = vehicle_restrictions(grid)
    assert r["ladder"] == edges((4, 5), (3, 6))  # living_street 3.5 m < 4.3 m; service 3.0 m
    assert r["engine"] == edges((3, 6))
    assert r["rescue"] == edges((3, 6))
    assert r["ambulance"] == frozenset()
    assert r["command"] == frozenset()


def test_device_caps_the_minor_road_it_stands_on_not_the_arterial(grid: nx.MultiDiGraph) -> None:
    # A device 3 m from the residential street 2-4, and 3 m from the secondary road near node 2.
    device = DevicePoint(lat=LAT0 + 0.3 * DLAT, lon=LON0 + DLON + 0.00003)
    widths = edge_widths(grid, devices=[device])
    assert widths[(2, 4, 0)].basis == "device zone" and widths[(2, 4, 0)].width_m == 3.0
    assert widths[(4, 2, 0)].width_class == "very_narrow"
    assert widths[(1, 2, 0)].basis == "highway class"
    r = vehicle_restrictions(grid, devices=[device])
    assert edges((2, 4)) <= r["engine"]
    assert not edges((2, 4)) & r["ambulance"]


def test_device_radius_and_flagged_radius(grid: nx.MultiDiGraph) -> None:
    # 20 m east of the residential street: too far for a plain device, within a flagged one.
    lat, lon = LAT0 + 0.5 * DLAT, LON0 + DLON + 0.2 * DLON
    assert not edges((2, 4)) & vehicle_restrictions(grid, devices=[DevicePoint(lat, lon)])["engine"]
    flagged = DevicePoint(lat, lon, no_engine_access=True)
    assert edges((2, 4)) <= vehicle_restrictions(grid, devices=[flagged])["engine"]


def test_width_tag_of_five_metres_is_not_capped_by_devices(grid: nx.MultiDiGraph) -> None:
    for key in ((2, 4, 0), (4, 2, 0)):
        grid.edges[key]["width"] = 6.0
    device = DevicePoint(lat=LAT0 + 0.5 * DLAT, lon=LON0 + DLON)
    assert not edges((2, 4)) & vehicle_restrictions(grid, devices=[device])["ladder"]


def _node_link_street(graph: nx.MultiDiGraph, u: int, v: int, lanes: int, **attrs: object) -> None:
    graph.add_edge(u, v, length=100.0, highway="residential", lanes=lanes, width=None, **attrs)


def test_node_link_width_counts_both_directions_and_ignores_devices() -> None:
    # Standard node-link: lanes per direction, no alleys. Two-way 1+1 lanes: 7 m, open to all;
    # one-way single lane: 4 m, barred to the ladder only (4.3 m on minor roads).
    graph = nx.MultiDiGraph(format="stdnodelink")
    for n in range(4):
        node(graph, n, 0, n)
    _node_link_street(graph, 0, 1, 1)
    _node_link_street(graph, 1, 0, 1)
    _node_link_street(graph, 1, 2, 1)  # one way
    _node_link_street(graph, 2, 3, 2)  # one way, two lanes: 7 m
    device = DevicePoint(lat=LAT0, lon=LON0 + 0.5 * DLON, no_engine_access=True)  # on 0-1
    widths = edge_widths(graph, devices=[device])
    assert widths[(0, 1, 0)].width_m == 7.0
    assert widths[(0, 1, 0)].basis == "lanes, both directions"
    assert widths[(1, 2, 0)].width_m == 4.0 and widths[(1, 2, 0)].basis == "lanes, one way"
    assert widths[(2, 3, 0)].width_m == 7.0
    r = vehicle_restrictions(graph, devices=[device])
    assert r["ladder"] == frozenset({(1, 2, 0)})
    assert r["engine"] == r["ambulance"] == frozenset()
    # The same graph read as OSM (lanes = the whole road): the device caps 0-1 for engines.
    graph.graph["format"] = "graphml"
    assert (0, 1, 0) in vehicle_restrictions(graph, devices=[device])["engine"]


def test_custom_vehicle_specs(grid: nx.MultiDiGraph) -> None:
    spec = {"tanker": VehicleSpec("tanker", "water tanker", 2.5, 11.0)}
    r = vehicle_restrictions(grid, vehicle_specs=spec)
    assert set(r) == {"tanker"} and r["tanker"] == edges((4, 5), (3, 6))


@dataclass
class RecordingNetwork:
    graph: nx.MultiDiGraph
    calls: dict[str, tuple[frozenset[tuple[int, int, int]], str]] = field(default_factory=dict)

    def set_vehicle_restrictions(
        self, vehicle: str, forbidden_edges: Iterable[tuple[int, int, int]], *, reason: str
    ) -> None:
        self.calls[vehicle] = (frozenset(forbidden_edges), reason)


def test_apply_to_hands_every_class_to_the_network(grid: nx.MultiDiGraph) -> None:
    net = RecordingNetwork(grid)
    result = apply_to(net, devices=[])
    assert set(net.calls) == set(VEHICLE_SPECS)
    assert net.calls["ladder"][0] == result["ladder"] == edges((4, 5), (3, 6))
    assert "4.3 m" in net.calls["ladder"][1]


def scene_point(row: float, col: float) -> tuple[float, float]:
    import numpy as np

    from firemap.sources import to_metric

    xs, ys = to_metric(np.array([LON0 + col * DLON]), np.array([LAT0 + row * DLAT]))
    return float(xs[0]), float(ys[0])


def test_scene_in_a_narrow_street_gets_a_hose_stretch(grid: nx.MultiDiGraph) -> None:
    forbidden = vehicle_restrictions(grid)
    access = RoadAccess(grid, forbidden=forbidden, vehicle_specs=VEHICLE_SPECS)
    x, y = scene_point(1.8, 1.0)  # on the living street, 80 m past node 4
    ladder = access.scene(x, y, "ladder")
    assert ladder.access == "hose"
    assert ladder.hose_m == pytest.approx(80.0, abs=2.0)
    assert (ladder.stop_lat, ladder.stop_lon) == pytest.approx((LAT0 + DLAT, LON0 + DLON))
    assert "last stretch by hose (80 m)" in ladder.message
    assert access.scene(x, y, "engine").access == "direct"
    # At the far end of the service road, the engine stops at node 3, 100 m away.
    sx, sy = scene_point(1.0, 2.0)
    engine = access.scene(sx, sy, "engine")
    assert engine.access == "hose" and engine.hose_m == pytest.approx(100.0, abs=2.0)


def test_scene_far_from_every_road_is_outside_the_graph(grid: nx.MultiDiGraph) -> None:
    access = RoadAccess(grid, forbidden=vehicle_restrictions(grid), vehicle_specs=VEHICLE_SPECS)
    x, y = scene_point(10.0, 10.0)
    assert access.scene(x, y, "engine").access == "outside_graph"


def test_scene_with_no_usable_road_nearby_is_unreachable() -> None:
    g = nx.MultiDiGraph()
    node(g, 1, 0, 0)
    node(g, 2, 0, 1)
    road(g, 1, 2, "service")
    access = RoadAccess(g, forbidden=vehicle_restrictions(g), vehicle_specs=VEHICLE_SPECS)
    x, y = scene_point(0.0, 0.5)
    assert access.scene(x, y, "engine").access == "unreachable"
    assert access.scene(x, y, "ambulance").access == "direct"
