"""`RoadNetwork`: the routing engine over one road graph.

networkx is the model (``net.graph``: loading, attributes, editing); the hot queries run on its
CSR compilation (`routing.compiled`). Call `recompile()` after editing ``net.graph`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from routing import one_to_many
from routing.anchors import Anchor, direct
from routing.approach_legs import Approach, ApproachModel, ApproachRules
from routing.compiled import CompiledGraph, SearchResult, WeightSet, check_metric
from routing.components import largest_component
from routing.errors import RoutingError, UnreachableError
from routing.etas import GroupTree, rank_etas
from routing.off_graph_routes import approach_route, outside_leg
from routing.paths import PathPart, assemble_route, busiest_arc, tree_from_point
from routing.query_cache import TREE_CACHE_BYTES, QueryCache, TreeKey
from routing.road_closures import ClosureRegistry, area_from_geojson
from routing.snapping import DEFAULT_MAX_SNAP_M, EdgeIndex, Snap
from routing.speeds import SpeedTable, check_vehicle
from routing.values import Route, UnitEta, UnitPosition, check_latlon
from routing.vehicles import VEHICLE_DIMENSIONS, VehicleDimensions

if TYPE_CHECKING:
    from routing.coverage import CoverageModel


class RoadNetwork:
    """Routes, ETAs, closures, restrictions and coverage over one typed road graph.

    ``compiled``, ``index``, ``closures`` and ``cache`` (`routing.query_cache`) are the parts
    routing's helper modules read (`routing.network_parts.NetworkParts`); outside routing/ use
    the methods.
    """

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
        self._compile(search_cache_bytes=TREE_CACHE_BYTES)

    def _compile(self, *, search_cache_bytes: int) -> None:
        self.compiled = CompiledGraph(self.graph, speeds=self.speeds, vehicles=self.vehicles)
        self.index = EdgeIndex(self.graph, self.compiled)
        self.closures = ClosureRegistry(self.compiled, self.index)
        self.cache = QueryCache(
            self.graph, self.compiled, self.index, speeds=self.speeds,
            approach_rules=self.approach_rules, max_snap_m=self.max_snap_m,
            search_cache_bytes=search_cache_bytes,
        )  # fmt: skip

    def recompile(self) -> None:
        """Rebuild the compiled form after ``graph`` was edited (drops closures/restrictions)."""
        self._restriction_reasons.clear()
        self._compile(search_cache_bytes=self.search_cache_bytes)

    @property
    def search_cache_bytes(self) -> int:
        """Memory for the search trees of recent ``etas(..., reuse=True)`` queries.

        The least recently used trees are dropped beyond it; the latest is always kept.
        """
        return self.cache.search_cache_bytes

    @search_cache_bytes.setter
    def search_cache_bytes(self, value: int) -> None:
        self.cache.search_cache_bytes = int(value)

    @property
    def compiled_graph_mb(self) -> float:
        """Memory of the compiled CSR form (all weight sets compiled so far), MB."""
        return self.compiled.nbytes() / 1e6

    # --- snapping -------------------------------------------------------------------------
    def snap(self, point: tuple[float, float], *, vehicle: str = "engine") -> Snap:
        """Snap (lat, lon) to the nearest road open to ``vehicle`` (within ``max_snap_m``)."""
        lat, lon = check_latlon(point, what="point")
        return self.cache.anchor(lat, lon, check_vehicle(vehicle)).snap

    @property
    def approaches(self) -> ApproachModel:
        """Entry candidates and legs for points off the graph (built on first use)."""
        return self.cache.approaches

    def endpoint(self, point: tuple[float, float], *, vehicle: str = "engine") -> Anchor | Approach:
        """Where (lat, lon) meets the graph: a snap, or an approach leg from off the graph.

        A point farther than ``max_snap_m`` from every road (or outside the graph's hull and
        farther than ``approach_rules.outside_snap_m``) but within ``approach_rules.approach_m``
        of one gets an `Approach` (routing.approach_legs); farther points raise SnapError.
        """
        lat, lon = check_latlon(point, what="point")
        return self.cache.endpoint(lat, lon, check_vehicle(vehicle))

    def start_seeds(self, lat: float, lon: float, vehicle: str) -> list[tuple[int, float]]:
        """(node, seconds) a search from (lat, lon) starts with, cheapest first (cached).

        Its departures, or its approach entries when off the graph; RoutingError as `endpoint`.
        Coverage places every unit this way: stations hold several units at one position.
        """
        return self.cache.start_seeds(lat, lon, check_vehicle(vehicle))

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
        a_from, a_to = self.cache.endpoint(*o, vehicle), self.cache.endpoint(*d, vehicle)
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
        cache = self.cache
        batch = cache.unit_batch(units)
        etas = np.full(len(units), np.inf)
        trees: list[GroupTree | None] = []
        searched: dict[TreeKey, SearchResult] = {}  # this query's searches, by twin class
        # A class that cannot meet the incident (every road near it closed to that class, or a
        # pocket behind a low underpass) gets no ETA and says why; the other classes still rank.
        # Only when no class can meet it is the query an error.
        failed: dict[int, str] = {}
        for g, group in enumerate(batch.groups):
            try:
                end = cache.endpoint(lat, lon, group.vehicle)
            except RoutingError as err:
                failed[g] = f"no road near the incident open to {group.vehicle} units: {err}"
                trees.append(None)
                if len(failed) == len(batch.groups):
                    raise
                continue
            ws = self.compiled.weights(group.vehicle, "time")
            key = (lat, lon, cache.twin(group.vehicle), True, float(cutoff_s))
            if isinstance(end, Approach):  # incident off the graph (강동구 on Seoul): its entries
                arrivals = None  # at their leg times (the 8 cheapest: VIRTUAL_SLOTS) seed it
                seeds = list(zip(end.nodes.tolist(), end.seconds.tolist(), strict=True))
            else:
                arrivals = end.arrivals(self.compiled, ws.arc_weights)
                seeds = [(t, c) for t, c, _ in arrivals]
            tree = searched.get(key)
            if tree is None:
                tree = searched[key] = (
                    cache.tree(key, ws, seeds)
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


def _crow_metres(net: RoadNetwork, a: Snap, b: Snap) -> float:
    pa, pb = net.index.point_metres(a.lat, a.lon), net.index.point_metres(b.lat, b.lon)
    return float(pa.distance(pb))


def _with_avoided(route: Route, edge: tuple[int, int, int]) -> Route:
    from dataclasses import replace

    return replace(route, avoided_edge=edge)
