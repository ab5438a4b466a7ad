"""The largest strongly connected component of a road graph (scipy: fast on a city)."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from routing.errors import RoutingError
from routing.values import LoadInfo


def largest_component(graph: nx.MultiDiGraph, *, source: str) -> tuple[nx.MultiDiGraph, LoadInfo]:
    """Keep the largest strongly connected component; report what was dropped."""
    if graph.number_of_nodes() == 0:
        raise RoutingError(f"road graph {source} has no nodes")
    n_components, keep = _largest_scc(graph)
    kept = graph.subgraph(keep).copy() if len(keep) < len(graph) else graph
    edges_total = graph.number_of_edges()  # counting edges walks the graph: once each
    edges_kept = kept.number_of_edges() if kept is not graph else edges_total
    info = LoadInfo(
        source=source,
        nodes_total=graph.number_of_nodes(),
        nodes_kept=kept.number_of_nodes(),
        nodes_dropped=graph.number_of_nodes() - kept.number_of_nodes(),
        components_dropped=n_components - 1,
        edges_kept=edges_kept,
        edges_dropped=edges_total - edges_kept,
    )
    if edges_kept == 0:
        raise RoutingError(f"road graph {source}: no two nodes are mutually reachable")
    return kept, info


def _largest_scc(graph: nx.MultiDiGraph) -> tuple[int, list[Any]]:
    """Number of strongly connected components and the nodes of the largest (scipy: fast)."""
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    pairs = np.array([(index[u], index[v]) for u, v in graph.edges()], dtype=np.int64)
    pairs = pairs.reshape(-1, 2)
    n = len(nodes)
    matrix = csr_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, labels = connected_components(matrix, directed=True, connection="strong")
    biggest = int(np.argmax(np.bincount(labels)))
    return int(count), [nodes[i] for i in np.flatnonzero(labels == biggest)]
