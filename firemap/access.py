"""Which road edges each class of fire and EMS vehicle may not use.

The rule, step by step (documented in docs/firemap.md):

1. Usable width of an edge, from the best evidence it has:
   the OSM ``width`` tag (m); else ``lanes`` x 3.0 m + 1.0 m of gutters/shoulders; else a
   default per ``highway`` class
   (``HIGHWAY_WIDTH_M``: residential 5.0, living_street 3.5, service 3.0 ...). Merged OSMnx
   edges with several classes or lane counts take the narrowest.
2. Emergency fire devices (비상소화장치) are installed where fire engines cannot get through.
   A *minor* edge (residential, living_street, service, unclassified, road, track) that has no
   width or lane tag saying otherwise (width >= 5 m or lanes >= 2), and passes within
   ``device_radius_m`` (8 m) of a device, is capped at ``DEVICE_ZONE_WIDTH_M`` (3.0 m). Devices
   flagged 소방차진입곤란/불가 reach further (``flagged_radius_m``, 30 m). Arterials are never
   capped: a device beside a main road sits at the mouth of an alley, not on the main road.
3. A vehicle needs ``width + 2 x 0.5 m`` clearance (mirrors, parked cars, opening doors). On
   minor roads it also needs ``0.4 m`` per metre of length over 10 m: the swept path of a long
   vehicle turning in an alley. Tertiary and larger roads (and their links) are built for
   12 m buses and trucks, so no widening there. An engine needs 3.5 m, a 12 m ladder truck
   3.5 m on main roads and 4.3 m on minor roads, an ambulance 3.0 m.
4. An edge narrower than what a vehicle needs is forbidden for that vehicle, in both
   directions (both directed edges share the geometry).

On a *standard node-link* network (표준노드링크 / MOCT_LINK: graph attribute ``format``
``stdnodelink`` or ``moct*``, or ``lanes_per_direction``), the rule reads the data that network
has. It carries no widths and no alleys (its smallest roads are the city's 시군도 collector
streets), and its ``lanes`` count one driving direction, not the whole road as OSM's do. So:

- width = (lanes of this link + lanes of the link back between the same nodes) x 3.0 m +
  1.0 m: the carriageway a crew can use (oncoming traffic yields); a one-way link counts its
  own lanes only. Step 3 then applies unchanged: a one-way single-lane city street (4.0 m) is
  barred to the ladder truck (4.3 m on minor roads), open to engines and ambulances;
- no device zones (step 2): the emergency fire devices stand in the alleys this network does
  not have, so capping the network's streets near them would bar real through roads. The last
  stretch into an alley is the scene-access answer (hose from the nearest usable road);
- height and weight limits (REST_H / REST_W) are routing's permanent restrictions
  (``routing.vehicles``), compiled into the network, not firemap's.

The functions here are pure: they read a graph and return sets of ``(u, v, key)`` edges.
:func:`apply_to` hands them to a `routing` network through its public method.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import numpy as np
import shapely
from shapely import STRtree

from firemap.roads import EdgeKey, edge_lines_metric, parse_list
from firemap.sources import to_metric

LANE_WIDTH_M = 3.0
LANE_MARGINS_M = 1.0
SIDE_CLEARANCE_M = 0.5
LONG_VEHICLE_FROM_M = 10.0
SWEPT_WIDENING_PER_M = 0.4
DEVICE_ZONE_WIDTH_M = 3.0
DEVICE_RADIUS_M = 8.0
FLAGGED_DEVICE_RADIUS_M = 30.0

# Typical usable carriageway in Seoul when OSM gives neither width nor lanes.
HIGHWAY_WIDTH_M: Mapping[str, float] = {
    "motorway": 14.0,
    "trunk": 14.0,
    "primary": 12.0,
    "secondary": 9.0,
    "tertiary": 7.0,
    "motorway_link": 6.0,
    "trunk_link": 6.0,
    "primary_link": 6.0,
    "secondary_link": 5.5,
    "tertiary_link": 5.0,
    "unclassified": 5.0,
    "road": 5.0,
    "residential": 5.0,
    "living_street": 3.5,
    "service": 3.0,
    "track": 2.5,
}
DEFAULT_WIDTH_M = 5.0
MINOR_CLASSES = frozenset(
    {"residential", "living_street", "service", "unclassified", "road", "track"}
)


@dataclass(frozen=True)
class VehicleSpec:
    name: str
    title: str
    width_m: float
    length_m: float

    @property
    def required_width_m(self) -> float:
        """Usable width needed on a minor road (the worst case, with swept-path widening)."""
        extra = max(0.0, self.length_m - LONG_VEHICLE_FROM_M) * SWEPT_WIDENING_PER_M
        return round(self.width_m + 2 * SIDE_CLEARANCE_M + extra, 2)

    @property
    def required_width_main_road_m(self) -> float:
        """Usable width needed on tertiary and larger roads (no widening)."""
        return round(self.width_m + 2 * SIDE_CLEARANCE_M, 2)

    def fits(self, width: EdgeWidth) -> bool:
        if width.highway in MINOR_CLASSES:
            return width.width_m >= self.required_width_m
        return width.width_m >= self.required_width_main_road_m


VEHICLE_SPECS: Mapping[str, VehicleSpec] = {
    "engine": VehicleSpec("engine", "pumper engine (펌프차)", 2.5, 8.0),
    "ladder": VehicleSpec("ladder", "aerial ladder truck (고가사다리차)", 2.5, 12.0),
    "rescue": VehicleSpec("rescue", "rescue truck (구조공작차)", 2.5, 9.5),
    "ambulance": VehicleSpec("ambulance", "ambulance (구급차)", 2.0, 6.0),
    "command": VehicleSpec("command", "command car (지휘차)", 1.9, 5.0),
}


@dataclass(frozen=True)
class DevicePoint:
    """An emergency fire device; ``no_engine_access`` when flagged 소방차진입곤란/불가."""

    lat: float
    lon: float
    no_engine_access: bool = False


@dataclass(frozen=True)
class EdgeWidth:
    width_m: float
    basis: str  # "width tag" | "lanes" | "highway class" | "device zone"
    highway: str

    @property
    def width_class(self) -> str:
        if self.width_m >= 6.0:
            return "wide"
        if self.width_m >= 4.5:
            return "medium"
        if self.width_m >= 3.5:
            return "narrow"
        return "very_narrow"


def _as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def estimate_width(data: Mapping[str, Any]) -> EdgeWidth:
    """Usable width of one edge from its own attributes (no devices)."""
    classes = parse_list(data.get("highway")) or ["road"]
    narrowest = min(classes, key=lambda c: HIGHWAY_WIDTH_M.get(c, DEFAULT_WIDTH_M))
    widths = [w for w in (_as_float(x) for x in parse_list(data.get("width"))) if w]
    if widths:
        return EdgeWidth(min(widths), "width tag", narrowest)
    lanes = [n for n in (_as_float(x) for x in parse_list(data.get("lanes"))) if n]
    if lanes:
        return EdgeWidth(min(lanes) * LANE_WIDTH_M + LANE_MARGINS_M, "lanes", narrowest)
    return EdgeWidth(HIGHWAY_WIDTH_M.get(narrowest, DEFAULT_WIDTH_M), "highway class", narrowest)


NODE_LINK_FORMATS = ("stdnodelink", "moct")


def is_node_link(graph: nx.MultiDiGraph) -> bool:
    """True for a standard node-link network: lanes per direction, no widths, no alleys."""
    if bool(graph.graph.get("lanes_per_direction")):
        return True
    return str(graph.graph.get("format") or "").lower().startswith(NODE_LINK_FORMATS)


def _lanes(data: Mapping[str, Any]) -> float | None:
    value = data.get("lanes")
    if isinstance(value, int | float):  # the typed graphs of routing: no parsing
        return float(value) if value > 0 and math.isfinite(value) else None
    lanes = [n for n in (_as_float(x) for x in parse_list(value)) if n]
    return max(lanes) if lanes else None


def node_link_widths(graph: nx.MultiDiGraph) -> dict[EdgeKey, EdgeWidth]:
    """Usable width of every link of a standard node-link network (see the module doc)."""
    widths: dict[EdgeKey, EdgeWidth] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        own = _lanes(data)
        highway = (parse_list(data.get("highway")) or ["road"])[0]
        if own is None:
            widths[(u, v, key)] = estimate_width(data)
            continue
        back = [_lanes(d) for d in graph.get_edge_data(v, u, default={}).values()] if u != v else []
        back_lanes = max((n for n in back if n), default=0.0)
        basis = "lanes, both directions" if back_lanes else "lanes, one way"
        widths[(u, v, key)] = EdgeWidth(
            (own + back_lanes) * LANE_WIDTH_M + LANE_MARGINS_M, basis, highway
        )
    return widths


def _cappable(width: EdgeWidth) -> bool:
    if width.highway not in MINOR_CLASSES:
        return False
    return not (width.basis in {"width tag", "lanes"} and width.width_m >= 5.0)


def device_zone_edges(
    graph: nx.MultiDiGraph,
    devices: Iterable[DevicePoint],
    *,
    device_radius_m: float = DEVICE_RADIUS_M,
    flagged_radius_m: float = FLAGGED_DEVICE_RADIUS_M,
) -> dict[EdgeKey, int]:
    """Minor edges near emergency fire devices -> number of devices that put them there."""
    devs = list(devices)
    if not devs or graph.number_of_edges() == 0:
        return {}
    keys, lines = edge_lines_metric(graph)
    tree = STRtree(lines)
    xs, ys = to_metric(
        np.array([d.lon for d in devs], dtype=np.float64),
        np.array([d.lat for d in devs], dtype=np.float64),
    )
    radii = np.array(
        [flagged_radius_m if d.no_engine_access else device_radius_m for d in devs],
        dtype=np.float64,
    )
    _, edge_idx = tree.query(shapely.points(xs, ys), predicate="dwithin", distance=radii)
    counts: dict[EdgeKey, int] = {}
    for e in edge_idx:
        key = keys[int(e)]
        if _cappable(estimate_width(graph.edges[key])):
            counts[key] = counts.get(key, 0) + 1
    return counts


def edge_widths(
    graph: nx.MultiDiGraph, *, devices: Iterable[DevicePoint] = ()
) -> dict[EdgeKey, EdgeWidth]:
    """Usable width of every edge, device zones applied (none on a node-link network)."""
    if is_node_link(graph):
        return node_link_widths(graph)
    zone = device_zone_edges(graph, devices)
    widths: dict[EdgeKey, EdgeWidth] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        width = estimate_width(data)
        if (u, v, key) in zone and width.width_m > DEVICE_ZONE_WIDTH_M:
            width = EdgeWidth(DEVICE_ZONE_WIDTH_M, "device zone", width.highway)
        widths[(u, v, key)] = width
    return widths


def vehicle_restrictions(
    graph: nx.MultiDiGraph,
    *,
    devices: Iterable[DevicePoint] = (),
    vehicle_specs: Mapping[str, VehicleSpec] = VEHICLE_SPECS,
) -> dict[str, frozenset[EdgeKey]]:
    """Per vehicle class, the edges it may not use (too narrow for its required width)."""
    widths = edge_widths(graph, devices=devices)
    return {
        name: frozenset(e for e, w in widths.items() if not spec.fits(w))
        for name, spec in vehicle_specs.items()
    }


class RestrictableNetwork(Protocol):
    """The part of `routing`'s network that firemap uses."""

    @property
    def graph(self) -> nx.MultiDiGraph: ...

    def set_vehicle_restrictions(
        self, vehicle: str, forbidden_edges: Iterable[tuple[int, int, int]], *, reason: str
    ) -> None: ...


def apply_to(
    net: RestrictableNetwork,
    *,
    devices: Iterable[DevicePoint] | None = None,
    vehicle_specs: Mapping[str, VehicleSpec] = VEHICLE_SPECS,
) -> dict[str, frozenset[EdgeKey]]:
    """Compute restrictions on ``net.graph`` and hand each vehicle's set to ``net``.

    ``devices`` defaults to the shipped emergency fire devices (Seoul + Songpa flags); a
    standard node-link network uses none (no alleys), so they are not loaded for it.
    """
    if devices is None and is_node_link(net.graph):
        devices = ()
    if devices is None:
        from firemap.safety_map import load_map

        devices = load_map().device_points()
    restrictions = vehicle_restrictions(net.graph, devices=devices, vehicle_specs=vehicle_specs)
    for name, edges in restrictions.items():
        spec = vehicle_specs[name]
        net.set_vehicle_restrictions(
            name,
            edges,
            reason=f"firemap: usable width below {spec.required_width_m} m needed by {spec.title}",
        )
    return restrictions
