"""firemap restrictions handed to routing (cross-team contract), on the real central graph.

The street: among edges barred to the ladder truck but open to the ambulance (living streets
narrower than the 4.3 m a 12 m ladder needs, wider than the ambulance's 3.0 m), the one whose
closure costs the ladder the largest detour (ratio of the ladder's shortest path without the
barred edges to the edge's own length, by distance). Origin and destination are its two end
nodes, so the ambulance's natural route is the street itself.
"""

from __future__ import annotations

import networkx as nx

import firemap.access
from routing import VEHICLE_CLASSES, load_network

MIN_LENGTH_M = 40.0


def pick_street(graph: nx.MultiDiGraph, ladder: frozenset, ambulance: frozenset):  # type: ignore[no-untyped-def]
    open_to_ladder = graph.edge_subgraph(e for e in graph.edges(keys=True) if e not in ladder)
    best = None
    for u, v, k in sorted(ladder - ambulance):
        length = float(graph.edges[u, v, k]["length"])
        if length < MIN_LENGTH_M or u not in open_to_ladder or v not in open_to_ladder:
            continue
        try:
            detour = nx.shortest_path_length(open_to_ladder, u, v, weight="length")
        except nx.NetworkXNoPath:
            continue
        ratio = detour / length
        if best is None or ratio > best[0]:
            best = (ratio, (u, v, k))
    assert best is not None, "no ladder-only street with a ladder detour in the central graph"
    return best[1], best[0]


def test_ladder_goes_around_a_street_the_ambulance_uses() -> None:
    assert {"ladder", "ambulance"} <= set(VEHICLE_CLASSES)
    net = load_network(network="central")
    restrictions = firemap.access.apply_to(net)
    ladder_barred, ambulance_barred = restrictions["ladder"], restrictions["ambulance"]
    assert ladder_barred and not ambulance_barred >= ladder_barred
    (u, v, _key), ratio = pick_street(net.graph, ladder_barred, ambulance_barred)
    assert ratio > 2.0
    a, b = net.graph.nodes[u], net.graph.nodes[v]
    origin, destination = (a["y"], a["x"]), (b["y"], b["x"])

    ambulance = net.route(origin, destination, vehicle="ambulance")
    ladder = net.route(origin, destination, vehicle="ladder")

    ambulance_edges = {tuple(e) for e in ambulance.edges}
    ladder_edges = {tuple(e) for e in ladder.edges}
    assert ambulance_edges & ladder_barred, "the ambulance should use the narrow street"
    assert not ladder_edges & ladder_barred, "the ladder must avoid every barred edge"
    assert ladder.distance_m > ambulance.distance_m
