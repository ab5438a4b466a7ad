"""`RoadNetwork`: the routing engine over one road graph.

networkx is the model (``net.graph``: loading, attributes, editing); the hot queries run on its
CSR compilation (`routing.compiled`). Call `recompile()` after editing ``net.graph`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from routing import one_to_many
from routing.anchors import Anchor, direct
from routing.approach import Approach, ApproachModel, ApproachRules
from routing.approach_routes import approach_route, outside_leg
from routing.closures import ClosureRegistry, area_from_geojson
from routing.compiled import CompiledGraph, FloatArray, SearchResult, WeightSet, check_metric
from routing.components import largest_component
from routing.errors import RoutingError, SnapError, UnreachableError
from routing.etas import BatchKey, GroupTree, UnitBatch, batch_key, rank_etas
from routing.model import Route, UnitEta, UnitPosition, check_latlon
from routing.paths import (
    PathPart,
    assemble_route,
    busiest_arc,
    tree_from_node,
    tree_from_point,
    tree_to_point,
)
from routing.snapping import DEFAULT_MAX_SNAP_M, EdgeIndex, Snap
from routing.speeds import SpeedTable, check_vehicle
from routing.vehicles import VEHICLE_DIMENSIONS, VehicleDimensions

if TYPE_CHECKING:
    from routing.coverage import CoverageModel

# A cached search: (lat, lon) of its point, vehicle class (twin), reverse?, limit.
TreeKey = tuple[float, float, str, bool, float]
# Default `RoadNetwork.search_cache_bytes` (only `etas(..., reuse=True)` fills it): ~100 trees
# of the central graph, 3 of a 100k-node one. More helps a dispatcher that recomputes many open
# incidents; on a large graph each new tree also costs fresh memory (~0.2 ms for all Seoul)
# until the cache is full.
TREE_CACHE_BYTES = 4_000_000


class RoadNetwork:
    """Routes, ETAs, closures, restrictions and coverage over one typed road graph."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        *,
        speeds: SpeedTable | None = None,
        source: str = "<graph>",
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        approach: ApproachRules | None = None,
        vehicles: Mapping[str, VehicleDimensions] = VEHICLE_DIMENSIONS,
    ) -> None:
        if not isinstance(graph, nx.MultiDiGraph):
            raise RoutingError(f"road graph must be a networkx MultiDiGraph, got {type(graph)}")
        if not max_snap_m > 0:
            raise RoutingError(f"max_snap_m must be positive, got {max_snap_m}")
        self.graph, self.load_info = largest_component(graph, source=source)
        self.speeds = speeds or SpeedTable()
        self.max_snap_m = float(max_snap_m)
        self.approach_rules = approach or ApproachRules()
        self.vehicles = vehicles
        self._restriction_reasons: dict[str, str] = {}
        # Memory for the search trees of recent ETA queries (the least recent are dropped; the
        # latest is always kept).
        self.search_cache_bytes = TREE_CACHE_BYTES
        self._compile()

    def _compile(self) -> None:
        self.compiled = CompiledGraph(self.graph, speeds=self.speeds, vehicles=self.vehicles)
        self.index = EdgeIndex(self.graph, self.compiled)
        self.closures = ClosureRegistry(self.compiled, self.index)
        self._anchor_cache: dict[tuple[float, float, str], Anchor] = {}
        self._approach_cache: dict[tuple[float, float, str], Approach] = {}
        self._approach_model: ApproachModel | None = None
        self._batch_cache: dict[BatchKey, UnitBatch] = {}
        self._seeds_cache: dict[tuple[float, float, str], list[tuple[int, float]]] = {}
        self._last_units: tuple[UnitPosition, ...] = ()
        self._last_ids: list[int] = []
        self._last_key: BatchKey = ()
        self._blocked_cache: dict[str, npt.NDArray[np.bool_] | None] = {}
        self._tree_cache: dict[TreeKey, SearchResult] = {}
        self._times_to_cache: dict[tuple[float, float, str], FloatArray] = {}
        self._twin_cache: dict[str, str] = {}
        self._anchor_version = self.compiled.version

    def recompile(self) -> None:
        """Rebuild the compiled form after ``graph`` was edited (drops closures/restrictions)."""
        self._restriction_reasons.clear()
        self._compile()

    @property
    def compiled_graph_mb(self) -> float:
        """Memory of the compiled CSR form (all weight sets compiled so far), MB."""
        return self.compiled.nbytes() / 1e6

    # --- snapping -------------------------------------------------------------------------
    def snap(self, point: tuple[float, float], *, vehicle: str = "engine") -> Snap:
        """Snap (lat, lon) to the nearest road open to ``vehicle`` (within ``max_snap_m``)."""
        lat, lon = check_latlon(point, what="point")
        return self._anchor(lat, lon, check_vehicle(vehicle)).snap

    def _sync_caches(self) -> None:
        """Drop cached anchors when closures/restrictions changed (snaps avoid blocked roads)."""
        if self._anchor_version != self.compiled.version:
            self._anchor_cache.clear()
            self._approach_cache.clear()
            self._batch_cache.clear()
            self._seeds_cache.clear()
            self._blocked_cache.clear()
            self._tree_cache.clear()
            self._times_to_cache.clear()
            self._twin_cache.clear()
            self._anchor_version = self.compiled.version

    def _anchor(self, lat: float, lon: float, vehicle: str) -> Anchor:
        self._sync_caches()
        key = (lat, lon, vehicle)
        found = self._anchor_cache.get(key)
        if found is None:
            blocked = self._blocked(vehicle)

            def usable(segment: int) -> bool:
                return blocked is None or not all(
                    blocked[a] for a in self.index.arcs_of_segment(segment)
                )

            # The nearest road whatever the class, shared by every class it is open to (an ETA
            # query snaps its incident once per vehicle class present).
            nearest = self._anchor_cache.get((lat, lon, ""))
            if nearest is None:
                snap = self.index.snap(lat, lon, max_distance_m=self.max_snap_m)
                nearest = self._anchor_cache[(lat, lon, "")] = Anchor.of(snap, self.index)
            if usable(nearest.snap.segment):
                found = nearest
            else:
                snap = self.index.snap(lat, lon, max_distance_m=self.max_snap_m, usable=usable)
                found = Anchor.of(snap, self.index)
            if len(self._anchor_cache) > 10_000:
                self._anchor_cache.clear()
            self._anchor_cache[key] = found
        return found

    @property
    def approaches(self) -> ApproachModel:
        """Entry candidates and legs for points off the graph (built on first use)."""
        if self._approach_model is None:
            self._approach_model = ApproachModel(
                self.graph, self.compiled, self.index, self.speeds, self.approach_rules
            )
        return self._approach_model

    def endpoint(self, point: tuple[float, float], *, vehicle: str = "engine") -> Anchor | Approach:
        """Where (lat, lon) meets the graph: a snap, or an approach leg from off the graph.

        A point farther than ``max_snap_m`` from every road (or outside the graph's hull and
        farther than ``approach_rules.outside_snap_m``) but within ``approach_rules.approach_m``
        of one gets an `Approach` (routing.approach); farther points raise SnapError.
        """
        lat, lon = check_latlon(point, what="point")
        return self._endpoint(lat, lon, check_vehicle(vehicle))

    def _endpoint(self, lat: float, lon: float, vehicle: str) -> Anchor | Approach:
        self._sync_caches()
        key = (lat, lon, vehicle)
        found = self._approach_cache.get(key)
        if found is not None:
            return found
        rules = self.approach_rules
        try:
            anchor = self._anchor(lat, lon, vehicle)
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
        if len(self._approach_cache) > 10_000:
            self._approach_cache.clear()
        self._approach_cache[key] = found
        return found

    def start_seeds(self, lat: float, lon: float, vehicle: str) -> list[tuple[int, float]]:
        """(node, seconds) a search from (lat, lon) starts with, cheapest first (cached).

        Its departures, or its approach entries when off the graph; RoutingError as `endpoint`.
        Coverage places every unit this way: stations hold several units at one position.
        """
        self._sync_caches()
        key = (lat, lon, vehicle)
        found = self._seeds_cache.get(key)
        if found is None:
            from routing.coverage import seeds_of

            start = self._endpoint(lat, lon, vehicle)
            weights = self.compiled.weights(vehicle, "time").arc_weights
            found = sorted(seeds_of(start, self.compiled, weights), key=lambda d: d[1])
            if len(self._seeds_cache) > 10_000:
                self._seeds_cache.clear()
            self._seeds_cache[key] = found
        return found

    def _twin(self, vehicle: str) -> str:
        """The first vehicle class whose effective time weights equal ``vehicle``'s.

        Equal weights mean equal blocked roads, hence equal snaps and equal search trees: such
        classes (engine and rescue by default) share their searches. Valid until weights change.
        """
        self._sync_caches()
        found = self._twin_cache.get(vehicle)
        if found is None:
            mine = self.compiled.weights(vehicle, "time").arc_weights
            found = next(
                (
                    other
                    for other in self._twin_cache.values()
                    if np.array_equal(self.compiled.weights(other, "time").arc_weights, mine)
                ),
                vehicle,
            )
            self._twin_cache[vehicle] = found
        return found

    def _tree(self, key: TreeKey, ws: WeightSet, seeds: list[tuple[int, float]]) -> SearchResult:
        """The search from the virtual node joined to ``seeds``, cached under ``key``.

        ``key`` names what the seeds are: the point they belong to, the (twin) vehicle class,
        the direction and the limit. Incidents are recomputed as calls and units change; their
        trees stay valid until the weights change (`_sync_caches`). Holding trees is not free on
        a large graph: a new search then writes memory that is no longer in the CPU cache
        (~0.1 ms per miss on 100k nodes), so only callers that repeat points use this.
        """
        self._sync_caches()
        found = self._tree_cache.pop(key, None)  # re-inserted below: the newest
        if found is None:
            # Make room first, so the cache never holds more than its budget during a search.
            tree_bytes = 12 * (self.compiled.n_nodes + 1)  # float64 distances, int32 predecessors
            keep = self.search_cache_bytes // tree_bytes
            while self._tree_cache and len(self._tree_cache) >= keep:
                _drop_oldest(self._tree_cache)
            found = self.compiled.search(ws, seeds, reverse=key[3], limit=key[4])
            found.dist.flags.writeable = False  # shared by every query that hits the cache
            found.pred.flags.writeable = False
        self._tree_cache[key] = found
        return found

    def _blocked(self, vehicle: str) -> npt.NDArray[np.bool_] | None:
        """Arcs ``vehicle`` cannot use now, or None when none (cached until weights change)."""
        if vehicle not in self._blocked_cache:
            mask = self.compiled.blocked_mask(vehicle)
            self._blocked_cache[vehicle] = mask if mask.any() else None
        return self._blocked_cache[vehicle]

    # --- routes -----------------------------------------------------------------------------
    def route(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        vehicle: str = "engine",
        metric: str = "time",
    ) -> Route:
        """Fastest (or shortest) route between two (lat, lon) points for ``vehicle``."""
        check_vehicle(vehicle)
        check_metric(metric)
        o = check_latlon(origin, what="origin")
        d = check_latlon(destination, what="destination")
        a_from, a_to = self._endpoint(*o, vehicle), self._endpoint(*d, vehicle)
        if isinstance(a_from, Approach) or isinstance(a_to, Approach):
            return approach_route(self, a_from, a_to, points=(o, d), vehicle=vehicle, metric=metric)
        parts = self._best_path(
            a_from, a_to, self.compiled.weights(vehicle, metric), vehicle, metric
        )
        return assemble_route(
            self, parts, vehicle=vehicle, metric=metric, origin=o, destination=d,
            snaps=(a_from.snap, a_to.snap),
        )  # fmt: skip

    def _best_path(
        self, a_from: Anchor, a_to: Anchor, ws: WeightSet, vehicle: str, metric: str
    ) -> list[PathPart]:
        weights = ws.arc_weights
        departures = a_from.departures(self.compiled, weights)
        arrivals = a_to.arrivals(self.compiled, weights)
        shortcut = direct(a_from, a_to, weights)
        # Search outward in growing rings: a bound from the straight-line distance first.
        crow = _crow_metres(self, a_from.snap, a_to.snap)
        fastest = 1.0 if metric == "distance" else self.speeds.max_metres_per_second(vehicle)
        limit = max(120.0, 2.0 * crow / fastest)
        while True:
            result = self.compiled.search(ws, [(h, c) for h, c, _ in departures], reverse=False,
                                          limit=limit)  # fmt: skip
            totals = [(float(result.dist[t]) + c, t, c, a) for t, c, a in arrivals]
            best = min(totals, default=(np.inf, -1, 0.0, -1))
            if shortcut is not None and shortcut[0] <= best[0]:
                _cost, arc, p0, p1 = shortcut
                return [(arc, p0, p1)]
            if np.isfinite(best[0]) and best[0] <= limit:
                return tree_from_point(self, result, ws, a_from, a_to, departures, best)
            if not np.isfinite(limit):
                raise UnreachableError(
                    f"no open road path from ({a_from.snap.lat:.6f}, {a_from.snap.lon:.6f}) to "
                    f"({a_to.snap.lat:.6f}, {a_to.snap.lon:.6f}) for {vehicle} "
                    f"({len(self.closures)} closure(s) active)"
                )
            limit = limit * 4.0 if limit < 1e6 else np.inf

    def alternative_route(self, first: Route) -> Route:
        """A route avoiding ``first``'s busiest segment (both directions of that road).

        "Busiest" is the segment of the most important road class (motorway > trunk > primary
        > ... ; a link just below its parent) and, among those, the longest travel time: the
        arterial stretch most likely to be congested or blocked, so the crew gets a real detour.
        """
        if not first.edges:
            raise RoutingError("alternative route: the first route has no edges to avoid")
        arc = busiest_arc(self, first)
        segment = int(self.index.seg_of_arc[arc])
        edges = [self.compiled.edges[a] for a in self.index.arcs_of_segment(segment)]
        closure = self.closures.close_edges(edges, reason="alternative-route probe")
        try:
            alt = self.route(first.origin, first.destination, vehicle=first.vehicle,
                             metric=first.metric)  # fmt: skip
        except UnreachableError as err:
            raise UnreachableError(
                f"no alternative route avoiding edge {self.compiled.edges[arc]}: {err}"
            ) from err
        finally:
            self.closures.reopen(closure)
        return _with_avoided(alt, self.compiled.edges[arc])

    def etas_from(
        self,
        origin: tuple[float, float],
        destinations: Sequence[tuple[float, float]],
        *,
        vehicle: str = "engine",
    ) -> list[float | None]:
        """ETA (s) of the fastest route from ``origin`` to each destination, in their order.

        The ``route(origin, destination, vehicle=vehicle).eta_s`` of each (to float rounding);
        None where ``route`` would raise a RoutingError (an end off the network, no open road).
        Each destination's reverse search is cached until the weights change, so fixed
        destinations (hospitals) cost a lookup per query. See routing.one_to_many.
        """
        return one_to_many.etas_from(self, origin, destinations, vehicle=vehicle)

    # --- ETAs ---------------------------------------------------------------------------------
    def etas(
        self,
        incident: tuple[float, float],
        units: Sequence[UnitPosition],
        *,
        cutoff_s: float = 900,
        top_n_routes: int = 3,
        reuse: bool = False,
    ) -> list[UnitEta]:
        """Every unit's ETA to ``incident``, fastest first; beyond cutoff/unreachable last.

        One reverse search from the incident per vehicle class present (cutoff-limited), then
        one vectorised lookup over the units' cached anchors. Routes are built lazily for the
        ``top_n_routes`` fastest units. Classes with equal weights share a search.

        ``reuse``: keep the searches (up to `search_cache_bytes`) so that a repeated query of
        the same point and cutoff skips them until the weights change: for callers that
        recompute the same incidents (dispatch). Off, a query costs nothing beyond its searches.
        """
        if not cutoff_s > 0:
            raise RoutingError(f"cutoff_s must be positive, got {cutoff_s}")
        if top_n_routes < 0:
            raise RoutingError(f"top_n_routes must be >= 0, got {top_n_routes}")
        lat, lon = check_latlon(incident, what="incident")
        batch = self._unit_batch(units)
        etas = np.full(len(units), np.inf)
        trees: list[GroupTree | None] = []
        searched: dict[TreeKey, SearchResult] = {}  # this query's searches, by twin class
        # A class that cannot meet the incident (every road near it closed to that class, or a
        # pocket behind a low underpass) gets no ETA and says why; the other classes still rank.
        # Only when no class can meet it is the query an error.
        failed: dict[int, str] = {}
        for g, group in enumerate(batch.groups):
            try:
                end = self._endpoint(lat, lon, group.vehicle)
            except RoutingError as err:
                failed[g] = f"no road near the incident open to {group.vehicle} units: {err}"
                trees.append(None)
                if len(failed) == len(batch.groups):
                    raise
                continue
            ws = self.compiled.weights(group.vehicle, "time")
            key = (lat, lon, self._twin(group.vehicle), True, float(cutoff_s))
            if isinstance(end, Approach):  # incident off the graph (강동구 on Seoul): its entries
                arrivals = None  # at their leg times (the 8 cheapest: VIRTUAL_SLOTS) seed it
                seeds = list(zip(end.nodes.tolist(), end.seconds.tolist(), strict=True))
            else:
                arrivals = end.arrivals(self.compiled, ws.arc_weights)
                seeds = [(t, c) for t, c, _ in arrivals]
            tree = searched.get(key)
            if tree is None:
                tree = searched[key] = (
                    self._tree(key, ws, seeds)
                    if reuse
                    else self.compiled.search(ws, seeds, reverse=True, limit=key[4])
                )
            best, plans = group.lookup(end, ws.arc_weights, tree.dist, outside_s=self._outside_s)
            etas[group.members] = best
            plan = ("approach",) if arrivals is None else ("tree", tree, ws, arrivals)
            trees.append(GroupTree(end, plan, plans))
        return rank_etas(self, units, batch, (etas, trees), cutoff_s=cutoff_s,
                         top_n_routes=top_n_routes, incident=(lat, lon),
                         failed=failed)  # fmt: skip

    def _outside_s(self, unit: Approach, incident: Approach, vehicle: str) -> float:
        """Seconds of the straight estimated leg between two points off the graph."""
        return outside_leg(self, unit, incident, vehicle=vehicle)[1]

    def _unit_batch(self, units: Sequence[UnitPosition]) -> UnitBatch:
        """The units' anchors grouped by vehicle class, cached until weights change."""
        self._sync_caches()
        # The same unit objects as last time (dispatch passes the same fleet every query): skip
        # re-deriving the key. The objects are frozen and held in `_last_units`, so equal ids
        # mean the same values (an id is never reused while its object is alive).
        ids = list(map(id, units))
        if ids == self._last_ids:
            key = self._last_key
        else:
            key = batch_key(units)
            self._last_units, self._last_ids, self._last_key = tuple(units), ids, key
        found = self._batch_cache.get(key)
        if found is None:
            found = UnitBatch.build(units, self._endpoint, self.compiled)
            if len(self._batch_cache) >= 64:
                self._batch_cache.clear()
            self._batch_cache[key] = found
        return found

    def path_parts(self, start: Anchor, target: Anchor, plan: Any) -> list[PathPart]:
        """Parts of a unit's path from an ETA plan (used lazily by UnitEta)."""
        if plan[0] == "direct":
            parts: list[PathPart] = plan[1]
            return parts
        _, tree, ws, arrivals = plan
        departures = start.departures(self.compiled, ws.arc_weights)
        best = min((c + float(tree.dist[h]), h, c, a) for h, c, a in departures)
        return tree_to_point(self, tree, ws, start, target, best, arrivals)

    def approach_parts(
        self, start: Approach, target: Anchor, plan: Any
    ) -> tuple[int, list[PathPart]]:
        """The best entry of an approach and the in-graph parts from it (lazy UnitEta paths)."""
        _, tree, ws, arrivals = plan
        entry = int(np.argmin(start.seconds + tree.dist[start.nodes]))
        node = int(start.nodes[entry])
        return entry, tree_from_node(self, tree, ws, node, target, arrivals)

    # --- restrictions and closures ------------------------------------------------------------
    def set_vehicle_restrictions(
        self, vehicle: str, forbidden_edges: Iterable[tuple[int, int, int]], *, reason: str
    ) -> None:
        """Replace the set of edges ``vehicle`` may not use (e.g. streets too narrow).

        The permanent height/weight restrictions (`permanent_restrictions`) stay in force.
        """
        check_vehicle(vehicle)
        arcs = self.compiled.arcs_of(forbidden_edges)
        mask = self.compiled.forbidden[vehicle]
        changed = np.union1d(np.flatnonzero(mask), arcs)
        mask[:] = False
        mask[arcs] = True
        self._restriction_reasons[vehicle] = reason
        self.compiled.refresh_arcs(changed)

    def vehicle_restrictions(self, vehicle: str) -> tuple[list[tuple[int, int, int]], str | None]:
        """The edges forbidden to ``vehicle`` and the reason given."""
        arcs = np.flatnonzero(self.compiled.forbidden[check_vehicle(vehicle)])
        edges = [self.compiled.edges[int(a)] for a in arcs]
        return edges, self._restriction_reasons.get(vehicle)

    def permanent_restrictions(self, vehicle: str) -> list[tuple[int, int, int]]:
        """Edges whose posted height/weight limit ``vehicle`` exceeds (never routed over).

        Compiled from the edges' ``max_height_m``/``max_weight_t`` and `vehicles`; separate
        from `set_vehicle_restrictions`, which neither shows nor clears them.
        """
        arcs = np.flatnonzero(self.compiled.permanent[check_vehicle(vehicle)])
        return [self.compiled.edges[int(a)] for a in arcs]

    def close_edges(self, edges: Iterable[tuple[int, int, int]], *, reason: str = "") -> str:
        """Close edges (u, v, key) (one direction each); returns the closure id."""
        return self.closures.close_edges(edges, reason=reason)

    def close_polygon(self, polygon: Any, *, reason: str = "") -> str:
        """Close every road crossing a GeoJSON/shapely (Multi)Polygon in lon/lat (e.g. a bridge)."""
        return self.closures.close_area(area_from_geojson(polygon), kind="polygon", reason=reason)

    def close_radius(
        self, center: tuple[float, float], radius_m: float, *, reason: str = ""
    ) -> str:
        """Close every road within ``radius_m`` metres of ``center`` (lat, lon)."""
        lat, lon = check_latlon(center, what="closure centre")
        return self.closures.close_radius(lat, lon, float(radius_m), reason=reason)

    def reopen(self, closure_id: str) -> None:
        """Reopen a closure by id."""
        self.closures.reopen(closure_id)

    def closures_geojson(self) -> dict[str, Any]:
        """Open closures as a GeoJSON FeatureCollection."""
        return self.closures.geojson()

    # --- coverage -------------------------------------------------------------------------------
    def coverage(
        self, units: Sequence[UnitPosition], *, minutes: float = 5.0, vehicle: str = "engine"
    ) -> CoverageModel:
        """Coverage of road length within ``minutes`` of the given (available) units."""
        from routing.coverage import CoverageModel

        return CoverageModel(self, units, minutes=minutes, vehicle=vehicle)


def _drop_oldest(cache: dict[Any, Any]) -> None:
    """Drop the first (least recently inserted) entry of a dict used as an LRU cache."""
    oldest = next(iter(cache), None)
    if oldest is not None:
        cache.pop(oldest, None)


def _crow_metres(net: RoadNetwork, a: Snap, b: Snap) -> float:
    pa, pb = net.index.point_metres(a.lat, a.lon), net.index.point_metres(b.lat, b.lon)
    return float(pa.distance(pb))


def _with_avoided(route: Route, edge: tuple[int, int, int]) -> Route:
    from dataclasses import replace

    return replace(route, avoided_edge=edge)
