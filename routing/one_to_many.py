"""Fastest-route ETAs from one point to many fixed destinations, without a search per route.

`RoadNetwork.route` runs a search per pair. Ranking a handful of fixed destinations (the
emergency rooms near an incident) needs only ETAs, and the destinations repeat from query to
query: so each destination gets ONE reverse search, "seconds from every node to it", cached
until the weights change (a closure or restriction; `QueryCache.times_to`). An ETA is then
the origin's best departure (the part of its arc to the arc's head + the time from that head),
or a drive along a road origin and destination share. A destination off the graph (an approach
leg, routing.approach_legs) is reached through its best exit node + the leg: its reverse search is
seeded with every exit node at its leg's time (in groups of `VIRTUAL_SLOTS`, merged).

The values are `RoadNetwork.route(origin, destination).eta_s`, the same path costs summed in
another order (float rounding apart). An origin off the graph (rare: an incident just outside
the graph's hull) gets per-destination routes, exactly as `RoadNetwork.route` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from routing.anchors import Anchor, direct
from routing.approach_legs import Approach
from routing.compiled import VIRTUAL_SLOTS, FloatArray
from routing.errors import RoutingError
from routing.speeds import check_vehicle
from routing.values import check_latlon

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts

TIMES_TO_CACHE_BYTES = 8_000_000  # reverse searches kept (the central graph: ~300 destinations)


def etas_from(
    net: NetworkParts,
    origin: tuple[float, float],
    destinations: Sequence[tuple[float, float]],
    *,
    vehicle: str,
) -> list[float | None]:
    """ETA in seconds from ``origin`` to each destination; None where no route exists.

    "No route" is what makes `RoadNetwork.route` raise a RoutingError: the origin or that
    destination off the network (beyond the approach distance), or no open road between them.
    Invalid coordinates raise RoutingError naming the point.
    """
    check_vehicle(vehicle)
    o = check_latlon(origin, what="origin")
    points = [check_latlon(d, what=f"destination {i}") for i, d in enumerate(destinations)]
    if not points:
        return []
    try:
        start = net.cache.endpoint(*o, vehicle)
    except RoutingError:
        return [None] * len(points)
    if isinstance(start, Approach):
        return [_route_eta(net, o, d, vehicle) for d in points]
    weights = net.compiled.weights(vehicle, "time").arc_weights
    departures = start.departures(net.compiled, weights)
    heads = np.fromiter((h for h, _, _ in departures), dtype=np.int64, count=len(departures))
    leave = np.fromiter((c for _, c, _ in departures), dtype=np.float64, count=len(departures))
    result: list[float | None] = []
    for d in points:
        try:
            end = net.cache.endpoint(*d, vehicle)
        except RoutingError:
            result.append(None)
            continue
        eta = float(np.min(leave + times_to(net, d, end, vehicle)[heads], initial=np.inf))
        if isinstance(end, Anchor):
            shortcut = direct(start, end, weights)
            if shortcut is not None and shortcut[0] <= eta:
                eta = shortcut[0]
        result.append(eta if np.isfinite(eta) else None)
    return result


def times_to(
    net: NetworkParts, point: tuple[float, float], end: Anchor | Approach, vehicle: str
) -> FloatArray:
    """Seconds from every graph node to ``point`` (placed on the graph as ``end``), cached.

    Read-only; inf where the point cannot be reached.
    """
    net.cache.sync()
    cache = net.cache.times_to
    key = (point[0], point[1], net.cache.twin(vehicle))
    found = cache.pop(key, None)  # re-inserted below: the newest
    if found is None:
        # Make room first: the new searches' arrays can then reuse the dropped one's memory.
        while cache and len(cache) >= TIMES_TO_CACHE_BYTES // (8 * (net.compiled.n_nodes + 1)):
            cache.pop(next(iter(cache)))  # the least recently used
        ws = net.compiled.weights(vehicle, "time")
        if isinstance(end, Approach):
            seeds = list(zip(end.nodes.tolist(), end.seconds.tolist(), strict=True))
        else:
            seeds = [(t, c) for t, c, _ in end.arrivals(net.compiled, ws.arc_weights)]
        found = np.full(net.compiled.n_nodes + 1, np.inf)
        for lo in range(0, len(seeds), VIRTUAL_SLOTS):
            group = seeds[lo : lo + VIRTUAL_SLOTS]
            found = np.minimum(found, net.compiled.search(ws, group, reverse=True).dist)
        found.flags.writeable = False
    cache[key] = found
    return found


def _route_eta(
    net: NetworkParts, origin: tuple[float, float], destination: tuple[float, float], vehicle: str
) -> float | None:
    try:
        return net.route(origin, destination, vehicle=vehicle).eta_s
    except RoutingError:
        return None
