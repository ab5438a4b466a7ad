"""A deterministic, Seoul-size, road-like test graph (for benchmarks and tests).

A jittered grid (``side`` x ``side`` nodes, ~80 m apart) around central Seoul: every 8th row
and column is an arterial (``secondary``; every 32nd ``primary``) and always kept; local streets
(``tertiary``/``residential``) are kept with probability ``keep``; a share of local streets is
one-way. Lengths are the straight distance times a 0-15 % detour factor. ``side=316`` gives
~100k nodes and ~250k arcs.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from goldentime.geo import LocalProjection

SEOUL_CENTRE = (37.5665, 126.9780)


def road_like_graph(
    side: int = 316,
    *,
    seed: int = 7,
    spacing_m: float = 80.0,
    keep: float = 0.62,
    oneway_share: float = 0.1,
) -> nx.MultiDiGraph:
    """A typed MultiDiGraph (x, y, length, highway, oneway, name) like an OSMnx drive graph."""
    rng = np.random.default_rng(seed)
    n = side * side
    rows, cols = np.divmod(np.arange(n), side)
    x_m = (cols - side / 2) * spacing_m + rng.uniform(-15, 15, n)
    y_m = (rows - side / 2) * spacing_m + rng.uniform(-15, 15, n)
    lat0, lon0 = SEOUL_CENTRE
    lat, lon = LocalProjection(lat0, lon0).unproject(x_m, y_m)
    graph = nx.MultiDiGraph(crs="epsg:4326", name=f"synthetic-{side}x{side}-seed{seed}")
    graph.add_nodes_from((int(i), {"x": float(lon[i]), "y": float(lat[i])}) for i in range(n))
    right = np.flatnonzero(cols < side - 1)
    down = np.flatnonzero(rows < side - 1)
    u = np.concatenate([right, down])
    v = np.concatenate([right + 1, down + side])
    line = np.concatenate([rows[right], cols[down]])  # the row/column the street runs along
    arterial = line % 8 == 0
    kept = arterial | (rng.random(u.size) < keep)
    u, v, line, arterial = u[kept], v[kept], line[kept], arterial[kept]
    straight = np.hypot(x_m[u] - x_m[v], y_m[u] - y_m[v])
    length = straight * (1.0 + rng.uniform(0.0, 0.15, u.size))
    local_class = np.where(rng.random(u.size) < 0.2, "tertiary", "residential")
    highway = np.where(arterial, np.where(line % 32 == 0, "primary", "secondary"), local_class)
    oneway = ~arterial & (rng.random(u.size) < oneway_share)
    flip = rng.random(u.size) < 0.5
    edges = []
    for i in range(u.size):
        a, b = (int(v[i]), int(u[i])) if flip[i] else (int(u[i]), int(v[i]))
        attrs = {
            "length": float(length[i]),
            "highway": str(highway[i]),
            "oneway": bool(oneway[i]),
            "name": f"{'대로' if arterial[i] else '길'} {int(line[i])}",
            "lanes": None,
            "width": None,
            "bridge": None,
            "tunnel": None,
        }
        edges.append((a, b, 0, attrs))
        if not oneway[i]:
            edges.append((b, a, 0, dict(attrs)))
    graph.add_edges_from(edges)
    return graph
