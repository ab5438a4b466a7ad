"""Turning search trees into driven paths, and paths into `Route` values."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from routing.anchors import Anchor
from routing.approach_legs import Approach
from routing.compiled import FloatArray, SearchResult, WeightSet
from routing.snapping import Snap
from routing.speeds import highway_rank
from routing.values import Route

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts

PathPart = tuple[int, float, float]  # (arc, start fraction, end fraction) in driving direction


@dataclass(frozen=True)
class Leg:
    """An estimated straight leg between a point off the graph and a graph node."""

    lat: float  # the point off the graph
    lon: float
    seconds: float
    metres: float  # estimated road metres (crow x detour factor)
    crow_m: float

    @classmethod
    def of(cls, approach: Approach, entry: int) -> Leg:
        """The leg of ``approach`` to its entry candidate number ``entry``."""
        return cls(
            approach.lat, approach.lon, float(approach.seconds[entry]),
            float(approach.road_m[entry]), float(approach.crow_m[entry]),
        )  # fmt: skip


def _position(anchor: Anchor, arc: int) -> float:
    return float(anchor.position[np.flatnonzero(anchor.arcs == arc)[0]])


def _walk(tree: SearchResult, node: int, virtual: int) -> list[int]:
    nodes = [node]
    pred = tree.pred
    while int(pred[node]) != virtual:
        node = int(pred[node])
        if node < 0:
            raise AssertionError("search tree is broken: node without predecessor")
        nodes.append(node)
    return nodes


def _middle(net: NetworkParts, ws: WeightSet, nodes: list[int]) -> list[PathPart]:
    parts: list[PathPart] = []
    for tail, head in itertools.pairwise(nodes):
        parts.append((net.compiled.best_arc(ws, tail, head), 0.0, 1.0))
    return parts


def first_part(net: NetworkParts, origin: Anchor, departure: tuple[int, float, int]) -> PathPart:
    """The part driven from the point to a departure's node (nothing when it is the arc's tail)."""
    node, _cost, arc = departure
    if node != int(net.compiled.arc_v[arc]):  # the point is at the tail: leave from the node
        return (arc, 0.0, 0.0)
    return (arc, _position(origin, arc), 1.0)


def last_part(net: NetworkParts, target: Anchor, arrival: tuple[int, float, int]) -> PathPart:
    """The part driven from an arrival's node to the point (nothing when it is the arc's head)."""
    node, _cost, arc = arrival
    if node != int(net.compiled.arc_u[arc]):  # the point is at the head: reached at the node
        return (arc, 1.0, 1.0)
    return (arc, 0.0, _position(target, arc))


def _entry(options: list[tuple[int, float, int]], node: int, at: float) -> tuple[int, float, int]:
    """The departure/arrival through ``node`` whose cost equals the tree's distance there."""
    matching = [o for o in options if o[0] == node]
    return min(matching, key=lambda o: abs(o[1] - at))


def tree_from_point(
    net: NetworkParts,
    tree: SearchResult,
    ws: WeightSet,
    origin: Anchor,
    destination: Anchor,
    departures: list[tuple[int, float, int]],
    best: tuple[float, int, float, int],
) -> list[PathPart]:
    """Path of a forward search: origin -> ... -> arrival tail -> destination."""
    _, tail, cost, last_arc = best
    nodes = _walk(tree, tail, net.compiled.n_nodes)[::-1]
    first = _entry(departures, nodes[0], float(tree.dist[nodes[0]]))
    return [
        first_part(net, origin, first),
        *_middle(net, ws, nodes),
        last_part(net, destination, (tail, cost, last_arc)),
    ]


def tree_to_point(
    net: NetworkParts,
    tree: SearchResult,
    ws: WeightSet,
    start: Anchor,
    target: Anchor,
    best: tuple[float, int, float, int],
    arrivals: list[tuple[int, float, int]],
) -> list[PathPart]:
    """Path of a reverse search (toward the incident): start -> ... -> incident."""
    _, head, cost, first_arc = best
    nodes = _walk(tree, head, net.compiled.n_nodes)
    last = _entry(arrivals, nodes[-1], float(tree.dist[nodes[-1]]))
    return [
        first_part(net, start, (head, cost, first_arc)),
        *_middle(net, ws, nodes),
        last_part(net, target, last),
    ]


def tree_from_node(
    net: NetworkParts,
    tree: SearchResult,
    ws: WeightSet,
    node: int,
    target: Anchor,
    arrivals: list[tuple[int, float, int]],
) -> list[PathPart]:
    """Path of a reverse search from a graph node (an approach's entry) to the incident."""
    nodes = _walk(tree, node, net.compiled.n_nodes)
    last = _entry(arrivals, nodes[-1], float(tree.dist[nodes[-1]]))
    return [*_middle(net, ws, nodes), last_part(net, target, last)]


def tree_to_node(
    net: NetworkParts,
    tree: SearchResult,
    ws: WeightSet,
    origin: Anchor,
    departures: list[tuple[int, float, int]],
    node: int,
) -> list[PathPart]:
    """Path of a forward search from a snapped point to a graph node (an exit to a leg)."""
    nodes = _walk(tree, node, net.compiled.n_nodes)[::-1]
    first = _entry(departures, nodes[0], float(tree.dist[nodes[0]]))
    return [first_part(net, origin, first), *_middle(net, ws, nodes)]


def path_length(net: NetworkParts, parts: list[PathPart]) -> float:
    """Metres driven along ``parts``."""
    length = net.compiled.arc_length
    return float(sum((end - start) * float(length[arc]) for arc, start, end in parts))


def assemble_route(
    net: NetworkParts,
    parts: list[PathPart],
    *,
    vehicle: str,
    metric: str,
    origin: tuple[float, float],
    destination: tuple[float, float],
    snaps: tuple[Snap | None, Snap | None],
    lead_in: Leg | None = None,
    lead_out: Leg | None = None,
) -> Route:
    """A `Route` (ETA in seconds for ``vehicle``, metres, geometry, streets, edges).

    ``lead_in``/``lead_out``: estimated straight legs from a point off the graph to the first
    node of ``parts`` / from the last node to a point off the graph (routing.approach_legs). The
    geometry then starts/ends at that point itself.
    """
    compiled = net.compiled
    times = compiled.weights(vehicle, "time").arc_weights
    legs = [leg for leg in (lead_in, lead_out) if leg is not None]
    eta = sum(leg.seconds for leg in legs)
    distance = sum(leg.metres for leg in legs)
    pieces: list[FloatArray] = [np.array([[lead_in.lon, lead_in.lat]])] if lead_in else []
    edges: list[tuple[int, int, int]] = []
    streets: list[str] = []
    for arc, start, end in parts:
        share = end - start
        if share <= 0.0:
            continue
        eta += share * float(times[arc])
        distance += share * float(compiled.arc_length[arc])
        edges.append(compiled.edges[arc])
        name = compiled.arc_name[arc]
        if name and (not streets or streets[-1] != name):
            streets.append(str(name))
        pieces.append(net.index.arc_coords(arc, start, end))
    coords = _without_repeats(pieces)
    if lead_in is not None and len(coords) == 1 and parts:  # entered at the incident's spot
        coords.append(net.index.arc_coords(parts[-1][0], parts[-1][2], parts[-1][2])[0].tolist())
    if lead_out is not None:
        if not coords and parts:
            coords.append(net.index.arc_coords(parts[0][0], parts[0][1], parts[0][1])[0].tolist())
        coords.append([lead_out.lon, lead_out.lat])
    if len(coords) < 2:  # origin and destination snapped to the same spot
        snap = snaps[0] or snaps[1]
        point = [snap.lon, snap.lat] if snap else [origin[1], origin[0]]
        coords = [point, point]
    return Route(
        eta_s=eta,
        distance_m=distance,
        geometry={"type": "LineString", "coordinates": coords},
        streets=streets,
        edges=edges,
        vehicle=vehicle,
        metric=metric,
        origin=origin,
        destination=destination,
        snap_origin_m=snaps[0].distance_m if snaps[0] else (lead_in.crow_m if lead_in else 0.0),
        snap_destination_m=(
            snaps[1].distance_m if snaps[1] else (lead_out.crow_m if lead_out else 0.0)
        ),
        approach_s=sum(leg.seconds for leg in legs),
        approach_m=sum(leg.metres for leg in legs),
    )


def _without_repeats(pieces: list[FloatArray]) -> list[list[float]]:
    """The pieces' [lon, lat] points end to end, a point equal to the one before dropped."""
    if not pieces:
        return []
    points = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = (points[1:] != points[:-1]).any(axis=1)
    kept: list[list[float]] = points[keep].tolist()
    return kept


def busiest_arc(net: NetworkParts, route: Route) -> int:
    """The route's arc on the most important road class, longest travel time first.

    The first and last edges (where the route starts and ends) are not candidates when the
    route has more than two edges: avoiding them would only move the snapped end points.
    """
    times = net.compiled.weights(route.vehicle, "time").arc_weights
    arcs = [net.compiled.edge_arc[e] for e in route.edges]
    if len(arcs) > 2:
        arcs = arcs[1:-1]
    return min(arcs, key=lambda a: (highway_rank(net.compiled.arc_highway[a]), -float(times[a])))
