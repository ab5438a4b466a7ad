"""The hot-path form of a road graph: CSR matrices for scipy.sparse.csgraph.

Arcs (directed edges of the networkx MultiDiGraph) are numbered in forward-CSR order, so arc
``i`` is entry ``i`` of the forward matrix; ``rev_pos[i]`` is its entry in the reverse matrix
(used for "all units to one incident" in one search from the incident). Both matrices carry one
extra *virtual* row (index ``n_nodes``) with a few slots: a query writes a snapped point's
partial-edge costs there, searches from the virtual node, and clears the slots again. Parallel
arcs stay separate entries (csgraph relaxes every stored entry).

Weights are per (vehicle class, metric) and compiled lazily. Closures and vehicle restrictions
patch only the affected entries to +inf (and back), so ETAs change at once with no recompile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from routing.errors import RoutingError
from routing.speeds import VEHICLE_CLASSES, SpeedTable, check_vehicle
from routing.vehicles import VEHICLE_DIMENSIONS, VehicleDimensions, dimensions_of, exceeded

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
METRICS: tuple[str, ...] = ("time", "distance")
VIRTUAL_SLOTS = 8


def check_metric(metric: str) -> str:
    """Return ``metric`` if known, else raise a RoutingError naming the choices."""
    if metric not in METRICS:
        raise RoutingError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric


@dataclass
class WeightSet:
    """Effective weights of one (vehicle, metric): forward and reverse matrices share them."""

    base: FloatArray  # per arc, before closures/restrictions
    forward: csr_matrix
    reverse: csr_matrix

    @property
    def arc_weights(self) -> FloatArray:
        """Current effective weight of each arc (a view: +inf where closed or forbidden)."""
        data: FloatArray = self.forward.data
        return data[: self.base.size]


@dataclass(frozen=True)
class SearchResult:
    """Distances and predecessors of one search from the virtual node."""

    dist: FloatArray
    pred: npt.NDArray[np.int32]
    reverse: bool

    @property
    def nbytes(self) -> int:
        """Bytes held by the distance and predecessor arrays."""
        return int(self.dist.nbytes + self.pred.nbytes)


class CompiledGraph:
    """CSR form of a typed MultiDiGraph, with per-vehicle weights and blocked-arc patching."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        *,
        speeds: SpeedTable,
        vehicles: Mapping[str, VehicleDimensions] = VEHICLE_DIMENSIONS,
    ) -> None:
        self.speeds = speeds
        self.vehicles = vehicles
        self.node_ids: IntArray = np.fromiter(graph.nodes, dtype=np.int64, count=len(graph))
        self.node_lon: FloatArray = np.fromiter(
            (x for _n, x in graph.nodes(data="x")), dtype=np.float64, count=len(graph)
        )
        self.node_lat: FloatArray = np.fromiter(
            (y for _n, y in graph.nodes(data="y")), dtype=np.float64, count=len(graph)
        )
        self.node_index: dict[int, int] = {int(n): i for i, n in enumerate(self.node_ids)}
        n = self.n_nodes = len(self.node_ids)
        # One pass over the networkx edges (the slow part on a city graph), then columns.
        rows = [
            (u, v, k, d["length"], d["highway"], d.get("name"), d.get("maxspeed_kmh"),
             d.get("max_height_m"), d.get("max_weight_t"), d.get("geometry"))
            for u, v, k, d in graph.edges(keys=True, data=True)
        ]  # fmt: skip
        if not rows:
            raise RoutingError("road graph has no edges")
        cols = list(zip(*rows, strict=True))
        index = self.node_index
        u = np.fromiter(map(index.__getitem__, cols[0]), dtype=np.int64, count=len(rows))
        order = np.argsort(u, kind="stable")
        ordered = order.tolist()
        tails, heads, keys = (np.asarray(c, dtype=np.int64)[order] for c in cols[:3])
        self.edges: list[tuple[int, int, int]] = list(
            zip(tails.tolist(), heads.tolist(), keys.tolist(), strict=True)
        )
        self.edge_arc: dict[tuple[int, int, int], int] = {e: i for i, e in enumerate(self.edges)}
        self.arc_u: IntArray = u[order]
        self.arc_v: IntArray = np.fromiter(
            map(index.__getitem__, heads.tolist()), dtype=np.int64, count=len(rows)
        )
        self.arc_length: FloatArray = np.asarray(cols[3], dtype=np.float64)[order]
        self.arc_highway: list[str] = [str(cols[4][i]) for i in ordered]
        self.arc_name: list[Any] = [cols[5][i] for i in ordered]  # None: unnamed
        self.arc_geometry: list[Any] = [cols[9][i] for i in ordered]  # None: straight
        # Real posted limits (NaN: none): speed cap, height (m) and weight (t) restrictions.
        self.arc_maxspeed = _optional_floats(cols[6], order)
        self.arc_max_height = _optional_floats(cols[7], order)
        self.arc_max_weight = _optional_floats(cols[8], order)
        self._pair_arcs: dict[tuple[int, int], tuple[int, ...]] = {}
        for arc, pair in enumerate(zip(self.arc_u.tolist(), self.arc_v.tolist(), strict=True)):
            self._pair_arcs[pair] = (*self._pair_arcs.get(pair, ()), arc)
        self.n_arcs = a = len(order)
        slots_idx = np.full(VIRTUAL_SLOTS, n, dtype=np.int32)
        self.fwd_indptr = self._indptr(self.arc_u, n)
        self.fwd_indices = np.concatenate([self.arc_v.astype(np.int32), slots_idx])
        rev_order = np.argsort(self.arc_v, kind="stable")
        self.rev_arc: IntArray = rev_order  # reverse entry -> arc
        self.rev_pos: IntArray = np.empty(a, dtype=np.int64)
        self.rev_pos[rev_order] = np.arange(a)
        self.rev_indptr = self._indptr(self.arc_v, n)
        self.rev_indices = np.concatenate([self.arc_u[rev_order].astype(np.int32), slots_idx])
        self.closure_count = np.zeros(a, dtype=np.int32)
        self.forbidden = {v: np.zeros(a, dtype=bool) for v in VEHICLE_CLASSES}
        # Permanent: links whose height/weight limit the class exceeds. A separate mask, ORed
        # into the blocked mask: replacing `forbidden` (firemap's narrow streets) keeps them.
        self.permanent = {
            v: self._strand(
                exceeded(dimensions_of(v, vehicles), self.arc_max_height, self.arc_max_weight)
            )
            for v in VEHICLE_CLASSES
        }
        self._weights: dict[tuple[str, str], WeightSet] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped whenever effective weights change

    def _strand(self, over_limit: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """``over_limit`` plus the arcs a vehicle could enter but not leave (or not reach).

        Limits cut the graph for a tall or heavy vehicle: a street behind a low underpass from
        every side is outside the largest strongly connected component of the arcs it may use.
        Those arcs are blocked too, so it is never snapped to a road it cannot drive out of.
        """
        if not over_limit.any():
            return over_limit
        ok = ~over_limit
        n = self.n_nodes
        matrix = csr_matrix(
            (np.ones(int(ok.sum())), (self.arc_u[ok], self.arc_v[ok])), shape=(n, n)
        )
        _count, labels = connected_components(matrix, directed=True, connection="strong")
        main = int(np.argmax(np.bincount(labels)))
        inside = labels == main
        result: npt.NDArray[np.bool_] = over_limit | ~(inside[self.arc_u] & inside[self.arc_v])
        return result

    @staticmethod
    def _indptr(rows: IntArray, n: int) -> npt.NDArray[np.int32]:
        counts = np.bincount(rows, minlength=n)
        indptr = np.zeros(n + 2, dtype=np.int32)
        np.cumsum(counts, out=indptr[1 : n + 1])
        indptr[n + 1] = indptr[n] + VIRTUAL_SLOTS
        return indptr

    # --- weights --------------------------------------------------------------------------
    def base_weights(self, vehicle: str, metric: str) -> FloatArray:
        """Per-arc weights ignoring closures: seconds (time) or metres (distance)."""
        check_vehicle(vehicle)
        if check_metric(metric) == "distance":
            return self.arc_length.copy()
        mps = self.speeds.arc_metres_per_second(self.arc_highway, self.arc_maxspeed, vehicle)
        result: FloatArray = self.arc_length / mps
        return result

    def weights(self, vehicle: str, metric: str = "time") -> WeightSet:
        """The compiled weights of (vehicle, metric), compiling them on first use."""
        key = (check_vehicle(vehicle), check_metric(metric))
        found = self._weights.get(key)
        if found is None:
            base = self.base_weights(vehicle, metric)
            eff = np.where(self.blocked_mask(vehicle), np.inf, base)
            slots = np.full(VIRTUAL_SLOTS, np.inf)
            shape = (self.n_nodes + 1, self.n_nodes + 1)
            fwd = csr_matrix(
                (np.concatenate([eff, slots]), self.fwd_indices, self.fwd_indptr), shape=shape
            )
            rev = csr_matrix(
                (np.concatenate([eff[self.rev_arc], slots]), self.rev_indices, self.rev_indptr),
                shape=shape,
            )
            found = self._weights[key] = WeightSet(base=base, forward=fwd, reverse=rev)
        return found

    def blocked_mask(self, vehicle: str) -> npt.NDArray[np.bool_]:
        """Arcs unusable by ``vehicle`` now (closed, forbidden or over a limit for its class)."""
        result: npt.NDArray[np.bool_] = (
            (self.closure_count > 0) | self.forbidden[vehicle] | self.permanent[vehicle]
        )
        return result

    def refresh_arcs(self, arcs: IntArray) -> None:
        """Re-derive effective weights of ``arcs`` after closures/restrictions changed."""
        if arcs.size == 0:
            return
        with self._lock:
            for (vehicle, _metric), ws in self._weights.items():
                blocked = (
                    (self.closure_count[arcs] > 0)
                    | self.forbidden[vehicle][arcs]
                    | self.permanent[vehicle][arcs]
                )
                eff = np.where(blocked, np.inf, ws.base[arcs])
                ws.forward.data[arcs] = eff
                ws.reverse.data[self.rev_pos[arcs]] = eff
            self.version += 1

    def arcs_of(self, edges: Iterable[tuple[int, int, int]]) -> IntArray:
        """Arc numbers of networkx edges ``(u, v, key)``; unknown edges raise RoutingError."""
        arcs = []
        for edge in edges:
            try:
                arcs.append(self.edge_arc[(int(edge[0]), int(edge[1]), int(edge[2]))])
            except (KeyError, IndexError, TypeError, ValueError) as err:
                raise RoutingError(
                    f"edge {edge!r} is not an edge (u, v, key) of the graph"
                ) from err
        return np.unique(np.asarray(arcs, dtype=np.int64))

    # --- searches ---------------------------------------------------------------------------
    def search(
        self,
        ws: WeightSet,
        seeds: list[tuple[int, float]],
        *,
        reverse: bool,
        limit: float = np.inf,
    ) -> SearchResult:
        """Dijkstra from a virtual node joined to ``seeds`` (node index, cost) within ``limit``.

        Forward: distances from the seeds' point. Reverse: distances *to* the point.
        """
        matrix = ws.reverse if reverse else ws.forward
        seeds = sorted(seeds, key=lambda s: s[1])[:VIRTUAL_SLOTS]
        start = self.n_arcs
        with self._lock:
            for i, (node, cost) in enumerate(seeds):
                matrix.indices[start + i] = node
                matrix.data[start + i] = cost
            try:
                dist, pred = dijkstra(
                    matrix, indices=self.n_nodes, limit=limit, return_predecessors=True
                )
            finally:
                matrix.indices[start : start + VIRTUAL_SLOTS] = self.n_nodes
                matrix.data[start : start + VIRTUAL_SLOTS] = np.inf
        return SearchResult(dist=dist, pred=pred, reverse=reverse)

    def best_arc(self, ws: WeightSet, tail: int, head: int) -> int:
        """The cheapest open arc tail -> head (parallel arcs possible); -1 if none."""
        best, best_w = -1, np.inf
        data = ws.forward.data
        for arc in self._pair_arcs.get((tail, head), ()):  # arc number == forward CSR position
            weight = float(data[arc])
            if weight < best_w:
                best, best_w = arc, weight
        return best

    def nbytes(self) -> int:
        """Bytes held by the compiled arrays (structure, maps and every compiled weight set)."""
        arrays: list[npt.NDArray[Any]] = [
            self.node_ids, self.arc_u, self.arc_v, self.arc_length, self.fwd_indptr,
            self.fwd_indices, self.rev_arc, self.rev_pos, self.rev_indptr, self.rev_indices,
            self.closure_count, *self.forbidden.values(), *self.permanent.values(),
            self.arc_maxspeed, self.arc_max_height, self.arc_max_weight,
        ]  # fmt: skip
        total = sum(int(x.nbytes) for x in arrays)
        for ws in self._weights.values():
            total += int(ws.base.nbytes + ws.forward.data.nbytes + ws.reverse.data.nbytes)
        return total


def _optional_floats(values: tuple[Any, ...], order: IntArray) -> FloatArray:
    """Per arc (in ``order``) an optional number, NaN where None."""
    result: FloatArray = np.array(values, dtype=np.float64)[order]  # None -> NaN
    return result
