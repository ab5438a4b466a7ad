"""How close each vehicle class gets to a scene, and how much hose covers the rest.

The scene is snapped to the nearest road edge (within ``SNAP_MAX_M``). If the vehicle may use
that edge it drives up to the snapped point; otherwise a shortest-path search along the roads
(either direction: hose is laid on foot) finds the nearest node where a road usable by the
vehicle begins. The vehicle stops there, and the last stretch — along the road plus from the
road to the scene — is laid by hose.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import shapely
from shapely import STRtree

from firemap.access import VehicleSpec
from firemap.roads import EdgeKey, edge_lines_metric
from firemap.sources import METRIC_CRS, WGS84, transform

SNAP_MAX_M = 150.0
HOSE_SEARCH_MAX_M = 2_000.0
# A pumper carries about 10-13 lengths of 15 m hose; beyond this the crew needs another source
# (an emergency fire device, a relay line).
PRACTICAL_HOSE_M = 200.0

AccessKind = Literal["direct", "hose", "unreachable", "outside_graph"]


@dataclass(frozen=True)
class SceneAccess:
    vehicle: str
    access: AccessKind
    hose_m: float | None
    stop_lat: float | None
    stop_lon: float | None
    street: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RoadAccess:
    """Road edges with forbidden sets per vehicle, answering scene-access questions."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        *,
        forbidden: Mapping[str, frozenset[EdgeKey]],
        vehicle_specs: Mapping[str, VehicleSpec],
    ) -> None:
        self.graph = graph
        self.forbidden = forbidden
        self.vehicle_specs = vehicle_specs
        self.keys, self.lines = edge_lines_metric(graph)
        self._tree = STRtree(self.lines)
        self._adjacent: dict[Hashable, list[tuple[Hashable, float]]] = {}
        for u, v, data in graph.edges(data=True):
            length = float(data.get("length") or 0.0)
            self._adjacent.setdefault(u, []).append((v, length))
            self._adjacent.setdefault(v, []).append((u, length))
        self._usable_nodes: dict[str, frozenset[Hashable]] = {}
        for name in vehicle_specs:
            bad = forbidden.get(name, frozenset())
            self._usable_nodes[name] = frozenset(
                n for u, v, k in self.keys if (u, v, k) not in bad for n in (u, v)
            )

    def _latlon(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = transform(METRIC_CRS, WGS84, np.array([x]), np.array([y]))
        return float(lat[0]), float(lon[0])

    def _hose_search(
        self, sources: dict[Hashable, float], vehicle: str
    ) -> tuple[Hashable, float] | None:
        usable = self._usable_nodes[vehicle]
        best: dict[Hashable, float] = {}
        heap = [(d, i, n) for i, (n, d) in enumerate(sources.items())]
        heapq.heapify(heap)
        counter = len(heap)
        while heap:
            dist, _, node = heapq.heappop(heap)
            if node in best or dist > HOSE_SEARCH_MAX_M:
                continue
            best[node] = dist
            if node in usable:
                return node, dist
            for nbr, length in self._adjacent.get(node, ()):
                if nbr not in best:
                    counter += 1
                    heapq.heappush(heap, (dist + length, counter, nbr))
        return None

    def scene(self, x: float, y: float, vehicle: str) -> SceneAccess:
        spec = self.vehicle_specs[vehicle]
        point = shapely.Point(x, y)
        hits, dists = self._tree.query_nearest(
            point, max_distance=SNAP_MAX_M, return_distance=True, all_matches=False
        )
        if len(hits) == 0:
            return SceneAccess(
                vehicle,
                "outside_graph",
                None,
                None,
                None,
                None,
                f"no road of the graph within {SNAP_MAX_M:.0f} m: access not assessed",
            )
        index, offset_m = int(hits[0]), float(dists[0])
        u, v, key = self.keys[index]
        line = self.lines[index]
        data = self.graph.edges[u, v, key]
        street = data.get("name")
        along = float(line.project(point))
        if (u, v, key) not in self.forbidden.get(vehicle, frozenset()):
            stop = line.interpolate(along)
            lat, lon = self._latlon(stop.x, stop.y)
            return SceneAccess(
                vehicle,
                "direct",
                round(offset_m, 1),
                lat,
                lon,
                street,
                f"{spec.title} drives to the scene (road {offset_m:.0f} m from it)",
            )
        scale = float(data.get("length") or line.length) / max(line.length, 1e-9)
        found = self._hose_search({u: along * scale, v: (line.length - along) * scale}, vehicle)
        if found is None:
            return SceneAccess(
                vehicle,
                "unreachable",
                None,
                None,
                None,
                street,
                f"{spec.title}: no usable road within {HOSE_SEARCH_MAX_M:.0f} m of the scene",
            )
        node, road_m = found
        hose = round(road_m + offset_m, 1)
        lat, lon = float(self.graph.nodes[node]["y"]), float(self.graph.nodes[node]["x"])
        message = (
            f"{spec.title} reaches {hose:.0f} m away (needs {spec.required_width_m} m, street "
            f"{street or 'unnamed'} is narrower); last stretch by hose ({hose:.0f} m)"
        )
        if hose > PRACTICAL_HOSE_M:
            message += (
                f", beyond a practical {PRACTICAL_HOSE_M:.0f} m lay: use emergency fire devices"
            )
        return SceneAccess(vehicle, "hose", hose, lat, lon, street, message)
