"""Routes with an end off the road graph: an estimated straight leg + the in-graph route.

- from off the graph to a snapped point: ONE reverse search from the destination (no limit),
  then the entry minimising leg + in-graph time (the same rule as `RoadNetwork.etas`);
- from a snapped point to off the graph (e.g. a unit returning to a station outside): ONE
  forward search from the origin, then the exit minimising in-graph time + leg;
- both ends off the graph: the roads between them are not in the graph, so the route is one
  estimated straight leg (crow-flight x detour factor at the approach speed).

The geometry starts (ends) at the off-graph point itself, so a crew drives out of its station.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from routing.anchors import Anchor
from routing.approach_legs import Approach
from routing.compiled import FloatArray
from routing.errors import UnreachableError
from routing.paths import Leg, assemble_route, tree_from_node, tree_to_node
from routing.values import Route

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts


def _leg_costs(leg: Approach, metric: str) -> FloatArray:
    return leg.road_m if metric == "distance" else leg.seconds


def approach_route(
    net: NetworkParts,
    origin: Anchor | Approach,
    destination: Anchor | Approach,
    *,
    points: tuple[tuple[float, float], tuple[float, float]],
    vehicle: str,
    metric: str,
) -> Route:
    """The fastest (or shortest) route when at least one end is an `Approach`.

    ``points``: the (lat, lon) origin and destination as asked.
    """
    ws = net.compiled.weights(vehicle, metric)
    weights = ws.arc_weights
    o, d = points
    if isinstance(origin, Approach) and isinstance(destination, Approach):
        return _outside_only(net, origin, destination, vehicle=vehicle, metric=metric)
    if isinstance(origin, Approach) and isinstance(destination, Anchor):
        arrivals = destination.arrivals(net.compiled, weights)
        tree = net.compiled.search(ws, [(t, c) for t, c, _ in arrivals], reverse=True)
        totals = _leg_costs(origin, metric) + tree.dist[origin.nodes]
        entry = int(np.argmin(totals))
        if not np.isfinite(totals[entry]):
            raise _unreachable(net, origin, destination, vehicle)
        node = int(origin.nodes[entry])
        parts = tree_from_node(net, tree, ws, node, destination, arrivals)
        return assemble_route(
            net, parts, vehicle=vehicle, metric=metric, origin=o, destination=d,
            snaps=(None, destination.snap), lead_in=Leg.of(origin, entry),
        )  # fmt: skip
    assert isinstance(origin, Anchor) and isinstance(destination, Approach)
    departures = origin.departures(net.compiled, weights)
    tree = net.compiled.search(ws, [(h, c) for h, c, _ in departures], reverse=False)
    totals = tree.dist[destination.nodes] + _leg_costs(destination, metric)
    exit_ = int(np.argmin(totals))
    if not np.isfinite(totals[exit_]):
        raise _unreachable(net, origin, destination, vehicle)
    node = int(destination.nodes[exit_])
    parts = tree_to_node(net, tree, ws, origin, departures, node)
    return assemble_route(
        net, parts, vehicle=vehicle, metric=metric, origin=o, destination=d,
        snaps=(origin.snap, None),
        lead_out=Leg.of(destination, exit_),
    )  # fmt: skip


def outside_leg(
    net: NetworkParts, origin: Approach, destination: Approach, *, vehicle: str
) -> tuple[float, float]:
    """(metres, seconds) of the straight estimated leg between two points off the graph."""
    a = net.index.point_metres(origin.lat, origin.lon)
    b = net.index.point_metres(destination.lat, destination.lon)
    metres = float(shapely.distance(a, b)) * net.approach_rules.detour_factor
    return metres, metres / net.approaches.speed_mps(vehicle)


def _outside_only(
    net: NetworkParts, origin: Approach, destination: Approach, *, vehicle: str, metric: str
) -> Route:
    metres, seconds = outside_leg(net, origin, destination, vehicle=vehicle)
    return Route(
        eta_s=seconds,
        distance_m=metres,
        geometry={
            "type": "LineString",
            "coordinates": [[origin.lon, origin.lat], [destination.lon, destination.lat]],
        },
        streets=[],
        edges=[],
        vehicle=vehicle,
        metric=metric,
        origin=(origin.lat, origin.lon),
        destination=(destination.lat, destination.lon),
        snap_origin_m=origin.road_distance_m,
        snap_destination_m=destination.road_distance_m,
        approach_s=seconds,
        approach_m=metres,
    )


def _unreachable(
    net: NetworkParts, origin: Anchor | Approach, destination: Anchor | Approach, vehicle: str
) -> UnreachableError:
    def where(end: Anchor | Approach) -> str:
        lat, lon = (end.lat, end.lon) if isinstance(end, Approach) else (end.snap.lat, end.snap.lon)
        return f"({lat:.6f}, {lon:.6f})"

    return UnreachableError(
        f"no open road path from {where(origin)} to {where(destination)} for {vehicle} through "
        f"the graph's entry nodes ({len(net.closures)} closure(s) active)"
    )
