"""Plain-networkx reference answers on the same weights (for tests and benchmark baselines).

Each function builds a ``networkx.DiGraph`` over compiled node indices with, per node pair,
the cheapest open arc's weight, adds virtual nodes for snapped points (the same partial-edge
costs the engine uses; for a point off the graph, an edge per approach entry with its leg
cost), and runs networkx's own dijkstra.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from routing.anchors import Anchor, direct
from routing.approach_legs import Approach
from routing.errors import RoutingError
from routing.values import UnitPosition

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts


def weighted_digraph(net: NetworkParts, vehicle: str, metric: str = "time") -> nx.DiGraph:
    """The open arcs of ``net`` as a DiGraph (attribute ``weight``), min over parallel arcs."""
    c = net.compiled
    weights = c.weights(vehicle, metric).arc_weights
    graph = nx.DiGraph()
    graph.add_nodes_from(range(c.n_nodes))
    for arc in np.argsort(-weights):  # heaviest first, so the cheapest parallel arc wins
        w = float(weights[arc])
        if np.isfinite(w):
            graph.add_edge(int(c.arc_u[arc]), int(c.arc_v[arc]), weight=w)
    return graph


def _attach(
    graph: nx.DiGraph,
    net: NetworkParts,
    name: Any,
    anchor: Anchor | Approach,
    weights: Any,
    *,
    leave: bool,
    metric: str = "time",
) -> None:
    graph.add_node(name)
    if isinstance(anchor, Approach):  # an estimated leg to/from each entry node
        legs = anchor.road_m if metric == "distance" else anchor.seconds
        options = [(int(n), float(c), -1) for n, c in zip(anchor.nodes, legs, strict=True)]
    elif leave:
        options = anchor.departures(net.compiled, weights)
    else:
        options = anchor.arrivals(net.compiled, weights)
    for node, cost, _arc in options:
        a, b = (name, node) if leave else (node, name)
        if not graph.has_edge(a, b) or graph[a][b]["weight"] > cost:
            graph.add_edge(a, b, weight=cost)


def route_cost(
    net: NetworkParts,
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    vehicle: str = "engine",
    metric: str = "time",
    graph: nx.DiGraph | None = None,
) -> float | None:
    """networkx cost of the best route (None if unreachable)."""
    graph = (graph or weighted_digraph(net, vehicle, metric)).copy()
    weights = net.compiled.weights(vehicle, metric).arc_weights
    a, b = net.cache.endpoint(*origin, vehicle), net.cache.endpoint(*destination, vehicle)
    if isinstance(a, Approach) and isinstance(b, Approach):  # one straight estimated leg
        crow = net.index.point_metres(*origin).distance(net.index.point_metres(*destination))
        metres = float(crow) * net.approach_rules.detour_factor
        return metres if metric == "distance" else metres / net.approaches.speed_mps(vehicle)
    _attach(graph, net, "O", a, weights, leave=True, metric=metric)
    _attach(graph, net, "D", b, weights, leave=False, metric=metric)
    shortcut = direct(a, b, weights) if isinstance(a, Anchor) and isinstance(b, Anchor) else None
    try:
        cost = float(nx.dijkstra_path_length(graph, "O", "D"))
    except nx.NetworkXNoPath:
        cost = np.inf
    if shortcut is not None:
        cost = min(cost, shortcut[0])
    return None if not np.isfinite(cost) else cost


def unit_etas(
    net: NetworkParts,
    incident: tuple[float, float],
    units: Sequence[UnitPosition],
    *,
    cutoff_s: float = 900.0,
) -> dict[str, float | None]:
    """networkx ETA per unit (None beyond the cutoff), one reverse search per vehicle class."""
    result: dict[str, float | None] = {}
    for vehicle in {u.vehicle for u in units}:
        graph = weighted_digraph(net, vehicle)
        weights = net.compiled.weights(vehicle, "time").arc_weights
        target = net.cache.anchor(*incident, vehicle)
        _attach(graph, net, "I", target, weights, leave=False)
        group = [u for u in units if u.vehicle == vehicle]
        starts = {}
        for unit in group:
            try:
                start = net.cache.endpoint(unit.lat, unit.lon, vehicle)
            except RoutingError:
                continue
            starts[unit.unit_id] = start
            _attach(graph, net, ("U", unit.unit_id), start, weights, leave=True)
        times = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), "I",
                                                      cutoff=cutoff_s)  # fmt: skip
        for unit in group:
            eta = times.get(("U", unit.unit_id), np.inf)
            found = starts.get(unit.unit_id)
            shortcut = direct(found, target, weights) if isinstance(found, Anchor) else None
            if shortcut is not None:
                eta = min(eta, shortcut[0])
            result[unit.unit_id] = float(eta) if eta <= cutoff_s else None
    return result


def coverage_share(
    net: NetworkParts, units: Sequence[UnitPosition], *, minutes: float = 5.0,
    vehicle: str = "engine",
) -> float:  # fmt: skip
    """networkx coverage: multi-source dijkstra from the units, same arc/segment rule."""
    c, index = net.compiled, net.index
    limit = minutes * 60.0
    graph = weighted_digraph(net, vehicle)
    weights = c.weights(vehicle, "time").arc_weights
    sources = []
    for unit in units:
        name = ("U", unit.unit_id)
        _attach(
            graph, net, name, net.cache.anchor(unit.lat, unit.lon, vehicle), weights, leave=True
        )
        sources.append(name)
    times = nx.multi_source_dijkstra_path_length(graph, sources, cutoff=limit) if sources else {}
    dist = np.array([times.get(i, np.inf) for i in range(c.n_nodes)])
    covered = dist[c.arc_u] + weights <= limit
    segments = np.unique(index.seg_of_arc[covered])
    return float(index.seg_length[segments].sum() / index.seg_length.sum())
