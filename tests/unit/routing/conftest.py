"""Shared fixtures: the shipped central-Seoul network and small random road graphs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from routing import RoadNetwork, UnitPosition, load_network
from routing.approach_legs import ApproachRules
from routing.fire_units import load_fire_units

SEOUL_STATION = (37.5547, 126.9707)
GWANGHWAMUN = (37.5759, 126.9768)
# Every point snaps (no approach legs): the in-graph model the networkx properties check.
IN_GRAPH_ONLY = ApproachRules(approach_m=0.0)
CLASSES = ["primary", "secondary", "tertiary", "residential", "living_street", "secondary_link"]


@pytest.fixture(scope="session")
def central() -> RoadNetwork:
    return load_network(network="central")


@pytest.fixture()
def fresh_central() -> RoadNetwork:
    return load_network(network="central")  # parsed graph is cached: cheap


@pytest.fixture(scope="session")
def central_units(central: RoadNetwork) -> list[UnitPosition]:
    return load_fire_units(inside=central)


def random_network(seed: int, n_nodes: int, extra_edges: int) -> RoadNetwork:
    """A small random road graph: a ring (strongly connected) plus random (one-way) chords."""
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph()
    lat0, lon0 = 37.56, 126.98
    for i in range(n_nodes):
        graph.add_node(i, y=lat0 + rng.uniform(0, 0.01), x=lon0 + rng.uniform(0, 0.01))

    def add(u: int, v: int, *, both: bool) -> None:
        du = graph.nodes[u]
        dv = graph.nodes[v]
        straight = math.hypot((du["x"] - dv["x"]) * 88_000, (du["y"] - dv["y"]) * 111_000)
        attrs = {
            "length": straight * rng.uniform(1.0, 1.5),
            "highway": str(rng.choice(CLASSES)),
            "oneway": not both,
            "name": f"st{u}-{v}",
        }
        graph.add_edge(u, v, **attrs)
        if both:
            graph.add_edge(v, u, **attrs)

    for i in range(n_nodes):
        add(i, (i + 1) % n_nodes, both=bool(rng.random() < 0.6))
    for _ in range(extra_edges):
        u, v = (int(x) for x in rng.integers(0, n_nodes, 2))
        if u != v:
            add(u, v, both=bool(rng.random() < 0.5))
    return RoadNetwork(graph, max_snap_m=5_000, approach=IN_GRAPH_ONLY)


def random_points(net: RoadNetwork, seed: int, count: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    ys = [d["y"] for _, d in net.graph.nodes(data=True)]
    xs = [d["x"] for _, d in net.graph.nodes(data=True)]
    return [(rng.uniform(min(ys), max(ys)), rng.uniform(min(xs), max(xs))) for _ in range(count)]
