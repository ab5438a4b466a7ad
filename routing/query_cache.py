"""`QueryCache`: what repeated queries of one `RoadNetwork` share, valid for one weight version.

Routing-internal: `RoadNetwork` and routing's helper modules use it through ``net.cache``.
It holds where points meet the graph (snap anchors, approach legs, start seeds), which vehicle
classes share searches (twins), the arcs each class may not use, the units' batches, recent
search trees and the reverse searches to fixed points (`routing.one_to_many`). All of it is
dropped at once when closures or restrictions change the effective weights: the compiled
graph's ``version`` is compared on every call (`sync`).

Every method takes already validated values (finite lat/lon, a known vehicle class): the
checks belong to the public `RoadNetwork` methods that call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from routing.anchors import Anchor
from routing.approach_legs import Approach, ApproachModel, ApproachRules
from routing.compiled import CompiledGraph, FloatArray, SearchResult, WeightSet
from routing.coverage import seeds_of
from routing.errors import SnapError
from routing.etas import BatchKey, UnitBatch, batch_key
from routing.snapping import EdgeIndex
from routing.speeds import SpeedTable
from routing.values import UnitPosition

# A cached search: (lat, lon) of its point, vehicle class (twin), reverse?, limit.
TreeKey = tuple[float, float, str, bool, float]
# A point (lat, lon) and a vehicle class ("" in the anchor cache: whatever the class).
PointKey = tuple[float, float, str]
# Default `QueryCache.search_cache_bytes` (only `etas(..., reuse=True)` fills it): ~100 trees
# of the central graph, 3 of a 100k-node one. More helps a dispatcher that recomputes many open
# incidents; on a large graph each new tree also costs fresh memory (~0.2 ms for all Seoul)
# until the cache is full.
TREE_CACHE_BYTES = 4_000_000
POINTS_CACHED = 10_000  # anchors, endpoints, start seeds (each cache cleared when full)
BATCHES_CACHED = 64  # unit lists


class QueryCache:
    """Caches of one compiled graph's queries, dropped whenever its weights change."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        compiled: CompiledGraph,
        index: EdgeIndex,
        *,
        speeds: SpeedTable,
        approach_rules: ApproachRules,
        max_snap_m: float,
        search_cache_bytes: int = TREE_CACHE_BYTES,
    ) -> None:
        self.graph, self.compiled, self.index = graph, compiled, index
        self.speeds, self.approach_rules, self.max_snap_m = speeds, approach_rules, max_snap_m
        # Memory for the search trees of recent ETA queries (the least recent are dropped; the
        # latest is always kept).
        self.search_cache_bytes = search_cache_bytes
        self.times_to: dict[PointKey, FloatArray] = {}  # routing.one_to_many's reverse searches
        self._approach_model: ApproachModel | None = None
        self._anchors: dict[PointKey, Anchor] = {}
        self._endpoints: dict[PointKey, Approach] = {}
        self._seeds: dict[PointKey, list[tuple[int, float]]] = {}
        self._batches: dict[BatchKey, UnitBatch] = {}
        self._last_units: tuple[UnitPosition, ...] = ()
        self._last_ids: list[int] = []
        self._last_key: BatchKey = ()
        self._blocked: dict[str, npt.NDArray[np.bool_] | None] = {}
        self._trees: dict[TreeKey, SearchResult] = {}
        self._twins: dict[str, str] = {}
        self._version = compiled.version

    def sync(self) -> None:
        """Drop everything cached when closures/restrictions changed the weights."""
        if self._version != self.compiled.version:
            self._anchors.clear()
            self._endpoints.clear()
            self._batches.clear()
            self._seeds.clear()
            self._blocked.clear()
            self._trees.clear()
            self.times_to.clear()
            self._twins.clear()
            self._version = self.compiled.version

    @property
    def approaches(self) -> ApproachModel:
        """Entry candidates and legs for points off the graph (built on first use)."""
        if self._approach_model is None:
            self._approach_model = ApproachModel(
                self.graph, self.compiled, self.index, self.speeds, self.approach_rules
            )
        return self._approach_model

    # --- where points meet the graph ------------------------------------------------------------
    def anchor(self, lat: float, lon: float, vehicle: str) -> Anchor:
        """The snap of (lat, lon) to the nearest road open to ``vehicle`` (SnapError if none)."""
        self.sync()
        key = (lat, lon, vehicle)
        found = self._anchors.get(key)
        if found is None:
            blocked = self.blocked(vehicle)

            def usable(segment: int) -> bool:
                return blocked is None or not all(
                    blocked[a] for a in self.index.arcs_of_segment(segment)
                )

            # The nearest road whatever the class, shared by every class it is open to (an ETA
            # query snaps its incident once per vehicle class present).
            nearest = self._anchors.get((lat, lon, ""))
            if nearest is None:
                snap = self.index.snap(lat, lon, max_distance_m=self.max_snap_m)
                nearest = self._anchors[(lat, lon, "")] = Anchor.of(snap, self.index)
            if usable(nearest.snap.segment):
                found = nearest
            else:
                snap = self.index.snap(lat, lon, max_distance_m=self.max_snap_m, usable=usable)
                found = Anchor.of(snap, self.index)
            if len(self._anchors) > POINTS_CACHED:
                self._anchors.clear()
            self._anchors[key] = found
        return found

    def endpoint(self, lat: float, lon: float, vehicle: str) -> Anchor | Approach:
        """Where (lat, lon) meets the graph for ``vehicle``: see `RoadNetwork.endpoint`."""
        self.sync()
        key = (lat, lon, vehicle)
        found = self._endpoints.get(key)
        if found is not None:
            return found
        rules = self.approach_rules
        try:
            anchor = self.anchor(lat, lon, vehicle)
        except SnapError:
            if rules.approach_m <= self.max_snap_m:
                raise
            gap = self.approaches.road_distance_m(lat, lon)
            if gap <= self.max_snap_m:  # near a road, but every road near is closed to it
                raise
        else:
            gap = anchor.snap.distance_m
            if (
                gap <= rules.outside_snap_m
                or rules.approach_m <= rules.outside_snap_m
                or not self.approaches.outside_hull(lat, lon)
            ):
                return anchor
        found = self.approaches.approach(lat, lon, vehicle, road_distance_m=gap)
        if len(self._endpoints) > POINTS_CACHED:
            self._endpoints.clear()
        self._endpoints[key] = found
        return found

    def start_seeds(self, lat: float, lon: float, vehicle: str) -> list[tuple[int, float]]:
        """(node, seconds) a search from (lat, lon) starts with: see `RoadNetwork.start_seeds`."""
        self.sync()
        key = (lat, lon, vehicle)
        found = self._seeds.get(key)
        if found is None:
            start = self.endpoint(lat, lon, vehicle)
            weights = self.compiled.weights(vehicle, "time").arc_weights
            found = sorted(seeds_of(start, self.compiled, weights), key=lambda d: d[1])
            if len(self._seeds) > POINTS_CACHED:
                self._seeds.clear()
            self._seeds[key] = found
        return found

    def unit_batch(self, units: Sequence[UnitPosition]) -> UnitBatch:
        """The units' anchors grouped by vehicle class (cached per unit list)."""
        self.sync()
        # The same unit objects as last time (dispatch passes the same fleet every query): skip
        # re-deriving the key. The objects are frozen and held in `_last_units`, so equal ids
        # mean the same values (an id is never reused while its object is alive).
        ids = list(map(id, units))
        if ids == self._last_ids:
            key = self._last_key
        else:
            key = batch_key(units)
            self._last_units, self._last_ids, self._last_key = tuple(units), ids, key
        found = self._batches.get(key)
        if found is None:
            found = UnitBatch.build(units, self.endpoint, self.compiled)
            if len(self._batches) >= BATCHES_CACHED:
                self._batches.clear()
            self._batches[key] = found
        return found

    # --- vehicle classes ------------------------------------------------------------------------
    def twin(self, vehicle: str) -> str:
        """The first vehicle class whose effective time weights equal ``vehicle``'s.

        Equal weights mean equal blocked roads, hence equal snaps and equal search trees: such
        classes (engine and rescue by default) share their searches.
        """
        self.sync()
        found = self._twins.get(vehicle)
        if found is None:
            mine = self.compiled.weights(vehicle, "time").arc_weights
            found = next(
                (
                    other
                    for other in self._twins.values()
                    if np.array_equal(self.compiled.weights(other, "time").arc_weights, mine)
                ),
                vehicle,
            )
            self._twins[vehicle] = found
        return found

    def blocked(self, vehicle: str) -> npt.NDArray[np.bool_] | None:
        """Arcs ``vehicle`` cannot use now, or None when none."""
        self.sync()
        if vehicle not in self._blocked:
            mask = self.compiled.blocked_mask(vehicle)
            self._blocked[vehicle] = mask if mask.any() else None
        return self._blocked[vehicle]

    # --- search trees ---------------------------------------------------------------------------
    def tree(self, key: TreeKey, ws: WeightSet, seeds: list[tuple[int, float]]) -> SearchResult:
        """The search from the virtual node joined to ``seeds``, kept under ``key`` (LRU).

        ``key`` names what the seeds are: the point they belong to, the (twin) vehicle class,
        the direction and the limit. Incidents are recomputed as calls and units change; their
        trees stay valid until the weights change. Holding trees is not free on a large graph:
        a new search then writes memory that is no longer in the CPU cache (~0.1 ms per miss on
        100k nodes), so only callers that repeat points use this.
        """
        self.sync()
        found = self._trees.pop(key, None)  # re-inserted below: the newest
        if found is None:
            # Make room first, so the cache never holds more than its budget during a search.
            tree_bytes = 12 * (self.compiled.n_nodes + 1)  # float64 distances, int32 predecessors
            keep = self.search_cache_bytes // tree_bytes
            while self._trees and len(self._trees) >= keep:
                drop_oldest(self._trees)
            found = self.compiled.search(ws, seeds, reverse=key[3], limit=key[4])
            found.dist.flags.writeable = False  # shared by every query that hits the cache
            found.pred.flags.writeable = False
        self._trees[key] = found
        return found

    def tree_keys(self) -> list[TreeKey]:
        """The keys of the search trees kept, least recently used first."""
        self.sync()
        return list(self._trees)


def drop_oldest(cache: dict[Any, Any]) -> None:
    """Drop the first (least recently inserted) entry of a dict used as an LRU cache."""
    oldest = next(iter(cache), None)
    if oldest is not None:
        cache.pop(oldest, None)
