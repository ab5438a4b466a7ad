"""Coverage: the share of road length that available units reach within T minutes.

Definition: a road segment (both directions of a road count once) is *covered* when at least
one of its arcs can be driven end to end within T from the nearest available unit, i.e.
``dist(tail) + travel_time(arc) <= T``. Coverage = covered length / total length.

How it stays cheap:
- units off the graph (routing.approach_legs) are seeded at their cheapest entry nodes with their
  estimated approach times;
- the full computation is ONE multi-source, cutoff-limited dijkstra over a copy of the forward
  CSR with one virtual row per unit (its snapped partial-edge departures), returning for every
  node its time and the unit that owns it (``min_only`` sources);
- a unit going busy only repairs the nodes it owned: a small dijkstra over that cell, seeded
  from the cell's boundary with the (unchanged) times of the neighbouring owners;
- a unit becoming available again is one cutoff search from it, merged by ``min``;
- covered arcs and a per-segment count are updated for the touched nodes' out-arcs only.
Closures or restrictions made after the model was built trigger a full rebuild on next use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import mapping

from routing.anchors import Anchor
from routing.approach_legs import Approach
from routing.compiled import CompiledGraph, FloatArray, IntArray
from routing.errors import RoutingError
from routing.speeds import check_vehicle
from routing.values import UnitPosition

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts

SLOTS = 8  # per unit: its departures, or its cheapest approach entries when off the graph
NO_SOURCE = -9999


@dataclass(frozen=True)
class MoveUp:
    """Move an idle unit to a station to gain covered road length."""

    unit_id: str
    station_id: str
    station_name: str
    to_lat: float
    to_lon: float
    gain_m: float
    covered_share_before: float
    covered_share_after: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def seeds_of(
    start: Anchor | Approach, compiled: CompiledGraph, weights: FloatArray
) -> list[tuple[int, float]]:
    """(node, seconds) a search from ``start`` begins with: its departures or approach entries.

    A unit off the graph (routing.approach_legs) enters at its entry nodes after its estimated
    approach time; searches keep the cheapest few of them (`VIRTUAL_SLOTS` / `SLOTS`).
    """
    if isinstance(start, Approach):
        return list(zip(start.nodes.tolist(), start.seconds.tolist(), strict=True))
    return [(h, c) for h, c, _ in start.departures(compiled, weights)]


def _ranges(indptr: npt.NDArray[np.integer[Any]], rows: IntArray) -> IntArray:
    """Concatenated positions indptr[r]..indptr[r+1] for each row r (vectorised)."""
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lens) + lens, lens)
    result: IntArray = offsets + np.arange(total)
    return result


class CoverageModel:
    """Coverage of one unit set within ``minutes``, with incremental status changes."""

    def __init__(
        self,
        net: NetworkParts,
        units: Sequence[UnitPosition],
        *,
        minutes: float = 5.0,
        vehicle: str = "engine",
    ) -> None:
        if not (0.0 < minutes <= 120.0):
            raise RoutingError(f"coverage minutes must be in (0, 120], got {minutes}")
        ids = [u.unit_id for u in units]
        if len(set(ids)) != len(ids):
            raise RoutingError("coverage: unit ids must be unique")
        self.net = net
        self.minutes = float(minutes)
        self.limit_s = self.minutes * 60.0
        self.vehicle = check_vehicle(vehicle)
        self.units = list(units)
        self._row = {u.unit_id: i for i, u in enumerate(self.units)}
        self.available = np.ones(len(self.units), dtype=bool)
        self.unplaced: dict[str, str] = {}
        self._build()

    # --- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        c, index = self.net.compiled, self.net.index
        self._version = c.version
        n, a, k = c.n_nodes, c.n_arcs, len(self.units)
        self.n = n
        self.weights: FloatArray = c.weights(self.vehicle, "time").arc_weights.copy()
        self.dep_head = np.tile(n + np.arange(k)[:, None], (1, SLOTS)).astype(np.int32)
        self.dep_cost = np.full((k, SLOTS), np.inf)
        for i, unit in enumerate(self.units):
            self._place(i, unit)
        indptr = np.concatenate([c.fwd_indptr[: n + 1], a + SLOTS * np.arange(1, k + 1)])
        indices = np.concatenate([c.fwd_indices[:a], self.dep_head.reshape(-1)])
        data = np.concatenate([self.weights, self.dep_cost.reshape(-1)])
        self.matrix = csr_matrix((data, indices, indptr.astype(np.int32)), shape=(n + k, n + k))
        self._unit_slot0 = a
        self.seg_of_arc = index.seg_of_arc
        self.seg_length = index.seg_length
        self.total_length_m = float(self.seg_length.sum())
        self._in_cell = np.zeros(n, dtype=bool)
        self._local = np.zeros(n, dtype=np.int64)
        self._full()

    def _place(self, i: int, unit: UnitPosition) -> None:
        self.dep_head[i] = self.n + i
        self.dep_cost[i] = np.inf
        try:
            deps = self.net.cache.start_seeds(unit.lat, unit.lon, self.vehicle)
        except RoutingError as err:
            self.unplaced[unit.unit_id] = str(err)
            return
        self.unplaced.pop(unit.unit_id, None)
        for s, (head, cost) in enumerate(deps[:SLOTS]):
            self.dep_head[i, s] = head
            self.dep_cost[i, s] = cost

    def _write_unit_row(self, i: int) -> None:
        lo = self._unit_slot0 + SLOTS * i
        self.matrix.indices[lo : lo + SLOTS] = self.dep_head[i]
        self.matrix.data[lo : lo + SLOTS] = self.dep_cost[i]

    def _full(self) -> None:
        rows = self.n + np.flatnonzero(self.available)
        size = self.matrix.shape[0]
        if rows.size == 0:
            self.dist = np.full(size, np.inf)
            self.src = np.full(size, NO_SOURCE, dtype=np.int64)
        else:
            dist, _pred, src = dijkstra(
                self.matrix, indices=rows, min_only=True, limit=self.limit_s,
                return_predecessors=True,
            )  # fmt: skip
            self.dist, self.src = dist, src.astype(np.int64)
        c = self.net.compiled
        self.arc_cov = self.dist[c.arc_u] + self.weights <= self.limit_s
        self.seg_count = np.bincount(
            self.seg_of_arc[self.arc_cov], minlength=self.seg_length.size
        ).astype(np.int64)
        self.covered_length_m = float(self.seg_length[self.seg_count > 0].sum())

    def _fresh(self) -> None:
        if self._version != self.net.compiled.version:
            self._build()

    # --- queries --------------------------------------------------------------------------------
    @property
    def covered_share(self) -> float:
        """Covered road length / total road length (0..1)."""
        self._fresh()
        return self.covered_length_m / self.total_length_m if self.total_length_m else 0.0

    def summary(self) -> dict[str, Any]:
        """JSON-ready coverage figures."""
        share = self.covered_share
        return {
            "minutes": self.minutes,
            "vehicle": self.vehicle,
            "units_total": len(self.units),
            "units_available": int(self.available.sum()),
            "units_unplaced": dict(self.unplaced),
            "total_length_m": round(self.total_length_m, 1),
            "covered_length_m": round(self.covered_length_m, 1),
            "covered_share": round(share, 6),
        }

    def holes_geojson(self, *, as_polygons: bool = False, buffer_m: float = 25.0) -> dict[str, Any]:
        """Uncovered roads as a MultiLineString feature, or as buffered polygons."""
        self._fresh()
        index = self.net.index
        holes = np.flatnonzero(self.seg_count == 0)
        props = {**self.summary(), "uncovered_segments": int(holes.size),
                 "uncovered_length_m": round(float(self.seg_length[holes].sum()), 1)}  # fmt: skip
        if as_polygons:
            area = shapely.union_all(shapely.buffer(index.metric[holes], buffer_m))
            geometry = mapping(shapely.transform(area, index.unproject))
        else:
            coords = [shapely.get_coordinates(index.lonlat[int(s)]).tolist() for s in holes]
            geometry = {"type": "MultiLineString", "coordinates": coords}
        feature = {"type": "Feature", "geometry": geometry, "properties": props}
        return {"type": "FeatureCollection", "features": [feature]}

    # --- incremental updates -------------------------------------------------------------------
    def set_available(self, unit_id: str, available: bool) -> None:
        """Mark a unit available or busy, updating coverage incrementally."""
        self._fresh()
        i = self._index_of(unit_id)
        if bool(self.available[i]) == available:
            return
        self.available[i] = available
        if available:
            self._add(i)
        else:
            self._remove(i)

    def move_unit(self, unit_id: str, lat: float, lon: float) -> None:
        """Reposition a unit (e.g. a move-up) and update coverage."""
        self._fresh()
        i = self._index_of(unit_id)
        was = bool(self.available[i])
        if was:
            self.set_available(unit_id, False)
        unit = self.units[i]
        self.units[i] = UnitPosition(unit.unit_id, lat, lon, unit.vehicle, unit.name)
        self._place(i, self.units[i])
        self._write_unit_row(i)
        if was:
            self.set_available(unit_id, True)

    def unit(self, unit_id: str) -> UnitPosition:
        """The unit's current position (after any `move_unit`); RoutingError if unknown."""
        return self.units[self._index_of(unit_id)]

    def snapshot(self) -> dict[str, Any]:
        """Copies of the state the incremental updates change, for `restore` (move-up trials)."""
        return {
            "dist": self.dist.copy(),
            "src": self.src.copy(),
            "arc_cov": self.arc_cov.copy(),
            "seg_count": self.seg_count.copy(),
            "covered_length_m": self.covered_length_m,
            "available": self.available.copy(),
            "units": list(self.units),
            "dep_head": self.dep_head.copy(),
            "dep_cost": self.dep_cost.copy(),
            "unplaced": dict(self.unplaced),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Put back a `snapshot` taken of this model (same weights, same units)."""
        for name, value in state.items():
            setattr(self, name, value)
        for i in range(len(self.units)):
            self._write_unit_row(i)

    def _index_of(self, unit_id: str) -> int:
        try:
            return self._row[unit_id]
        except KeyError as err:
            raise RoutingError(f"coverage: unknown unit {unit_id!r}") from err

    def _add(self, i: int) -> None:
        row = self.n + i
        d = dijkstra(self.matrix, indices=row, limit=self.limit_s)
        better = np.flatnonzero(d[: self.n] < self.dist[: self.n])
        self.dist[better] = d[better]
        self.src[better] = row
        self.dist[row], self.src[row] = 0.0, row
        self._update_arcs(better)

    def _remove(self, i: int) -> None:
        row = self.n + i
        self.dist[row], self.src[row] = np.inf, NO_SOURCE
        cell = np.flatnonzero(self.src[: self.n] == row)
        if cell.size == 0:
            return
        new_dist, new_src = self._repair(cell)
        self.dist[cell], self.src[cell] = new_dist, new_src
        self._update_arcs(cell)

    def _repair(self, cell: IntArray) -> tuple[FloatArray, IntArray]:
        """Times and owners of ``cell`` from its boundary (unchanged owners), by one search."""
        c = self.net.compiled
        m = cell.size
        in_cell, local = self._in_cell, self._local
        in_cell[cell] = True
        local[cell] = np.arange(m)
        try:
            pos = _ranges(c.rev_indptr, cell)
            tails = c.rev_indices[pos].astype(np.int64)
            arcs = c.rev_arc[pos]
            heads = c.arc_v[arcs]
            w = self.weights[arcs]
            inside = in_cell[tails]
            border = ~inside & np.isfinite(self.dist[tails]) & np.isfinite(w)
            seed_head = heads[border]
            seed_cost = self.dist[tails[border]] + w[border]
            seed_owner = self.src[tails[border]]
            # available units that depart straight into the cell
            unit_mask = self.available[:, None] & (self.dep_head < self.n)
            unit_mask &= in_cell[np.where(unit_mask, self.dep_head, 0)]
            ui, us = np.nonzero(unit_mask)
            seed_head = np.concatenate([seed_head, self.dep_head[ui, us]])
            seed_cost = np.concatenate([seed_cost, self.dep_cost[ui, us]])
            seed_owner = np.concatenate([seed_owner, self.n + ui])
            keep = seed_cost <= self.limit_s
            seed_head, seed_cost, seed_owner = seed_head[keep], seed_cost[keep], seed_owner[keep]
            s = seed_head.size
            if s == 0:
                return np.full(m, np.inf), np.full(m, NO_SOURCE, dtype=np.int64)
            rows = np.concatenate([local[tails[inside]], m + np.arange(s)])
            cols = np.concatenate([local[heads[inside]], local[seed_head]])
            data = np.concatenate([w[inside], seed_cost])
            order = np.argsort(rows, kind="stable")
            indptr = np.zeros(m + s + 1, dtype=np.int32)
            np.cumsum(np.bincount(rows, minlength=m + s), out=indptr[1:])
            sub = csr_matrix(
                (data[order], cols[order].astype(np.int32), indptr), shape=(m + s, m + s)
            )
            dist, _pred, srcs = dijkstra(
                sub, indices=m + np.arange(s), min_only=True, limit=self.limit_s,
                return_predecessors=True,
            )  # fmt: skip
            owners = np.where(srcs[:m] >= 0, seed_owner[np.maximum(srcs[:m] - m, 0)], NO_SOURCE)
            return dist[:m], owners.astype(np.int64)
        finally:
            in_cell[cell] = False

    def _update_arcs(self, nodes: IntArray) -> None:
        if nodes.size == 0:
            return
        c = self.net.compiled
        arcs = _ranges(c.fwd_indptr, nodes)
        new = self.dist[c.arc_u[arcs]] + self.weights[arcs] <= self.limit_s
        changed = new != self.arc_cov[arcs]
        if not changed.any():
            return
        arcs, new = arcs[changed], new[changed]
        self.arc_cov[arcs] = new
        segs = self.seg_of_arc[arcs]
        touched = np.unique(segs)
        before = self.seg_count[touched] > 0
        np.add.at(self.seg_count, segs, np.where(new, 1, -1))
        after = self.seg_count[touched] > 0
        lengths = self.seg_length[touched]
        self.covered_length_m += float(lengths[after & ~before].sum())
        self.covered_length_m -= float(lengths[before & ~after].sum())

    # --- move-up ----------------------------------------------------------------------------------
    def suggest_move_up(
        self, stations: Sequence[UnitPosition], *, max_moves: int = 1
    ) -> list[MoveUp]:
        """Greedy: repeatedly the (idle unit, station) move that gains the most covered length.

        Each step tries every available unit against every station (the unit's own coverage
        removed incrementally, the station's reach added as a set union) and applies the best
        move if it gains anything. The model is left as it was.
        """
        from routing.moveup import greedy_move_up

        self._fresh()
        return greedy_move_up(self, stations, max_moves=max_moves)
