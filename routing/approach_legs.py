"""Units off the road graph: an estimated approach leg from outside to the graph's border.

The shipped graph covers only central Seoul, but the first-due units of incidents near its edge
often come from stations just outside it. A point farther than the snap limit from every road,
but within ``approach_m`` (default 3 km) of one, is joined to the graph by an *approach leg*:

- **entry candidates**: the graph's *border nodes* (nodes within ``border_band_m`` = 300 m of
  the boundary of the convex hull of all nodes) within ``entry_reach_m`` = 1.5 km beyond the
  nearest one, at most ``max_entries`` = 24, nearest first. Entering the graph anywhere along
  that stretch of border lets a unit that drives outside the graph towards the incident enter
  close to it, instead of at the foot of the perpendicular;
- **approach time** to an entry = crow-flight distance x ``detour_factor`` (1.3) / the vehicle
  class's speed on ``road_class`` (primary: engine 40 km/h, ambulance 44 km/h, ...; the
  routing `SpeedTable`). 1.3 is the usual ratio of road to straight-line distance in a dense
  street grid (circuity 1.2-1.4 in published city studies); the roads between a station and the
  graph's edge are the arterials a crew takes out of its station, hence the primary-road speed;
- a unit's ETA is the minimum over its entries of approach time + the in-graph time from the
  entry node. The leg is an *estimate*: the roads outside the graph (bridges, one-way streets,
  closures) are not modelled, so every such ETA carries the note ``APPROACH_NOTE``.

A point *outside the hull* that is within the snap limit but more than ``outside_snap_m``
(100 m: a station's forecourt and driveway) from the nearest road also gets an approach leg:
snapping it would silently drop up to the snap limit (500 m) of real driving, and the road it
snaps to is only the graph's cut edge, not the road it really takes.

Points beyond ``approach_m`` stay off the network (``SnapError``), as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree

from routing.compiled import CompiledGraph, FloatArray, IntArray
from routing.errors import RoutingError, SnapError
from routing.snapping import EdgeIndex
from routing.speeds import SpeedTable

DEFAULT_APPROACH_M = 3000.0
DETOUR_FACTOR = 1.3
APPROACH_ROAD_CLASS = "primary"
BORDER_BAND_M = 300.0
ENTRY_REACH_M = 1500.0
MAX_ENTRIES = 24
OUTSIDE_SNAP_M = 100.0
APPROACH_NOTE = "approach from outside the road graph, estimated"


@dataclass(frozen=True)
class ApproachRules:
    """The documented constants of the approach model (see the module docstring)."""

    approach_m: float = DEFAULT_APPROACH_M
    detour_factor: float = DETOUR_FACTOR
    road_class: str = APPROACH_ROAD_CLASS
    border_band_m: float = BORDER_BAND_M
    entry_reach_m: float = ENTRY_REACH_M
    max_entries: int = MAX_ENTRIES
    outside_snap_m: float = OUTSIDE_SNAP_M

    def __post_init__(self) -> None:
        if not self.approach_m >= 0:
            raise RoutingError(f"approach_m must be >= 0, got {self.approach_m}")
        if not 1.0 <= self.detour_factor <= 3.0:
            raise RoutingError(f"detour_factor must be in [1, 3], got {self.detour_factor}")
        if not (self.border_band_m > 0 and self.entry_reach_m >= 0):
            raise RoutingError(
                f"border_band_m must be > 0 and entry_reach_m >= 0, got "
                f"{self.border_band_m}, {self.entry_reach_m}"
            )
        if self.max_entries < 1:
            raise RoutingError(f"max_entries must be >= 1, got {self.max_entries}")


@dataclass(frozen=True)
class Approach:
    """How a point off the graph enters it: candidate entry nodes and the leg to each."""

    lat: float
    lon: float
    road_distance_m: float  # from the point to the nearest road of the graph
    nodes: IntArray  # compiled node indices of the entry candidates, nearest first
    crow_m: FloatArray  # straight-line metres to each entry
    road_m: FloatArray  # estimated road metres to each entry (crow x detour factor)
    seconds: FloatArray  # estimated approach time to each entry for the vehicle

    @property
    def note(self) -> str:
        """The note every ETA/route through this approach carries."""
        return f"{APPROACH_NOTE} ({self.road_distance_m:,.0f} m from the nearest road)"


class ApproachModel:
    """Entry candidates and approach legs for points off one compiled graph."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        compiled: CompiledGraph,
        index: EdgeIndex,
        speeds: SpeedTable,
        rules: ApproachRules,
    ) -> None:
        self.rules = rules
        self.speeds = speeds
        self.index = index
        ids = compiled.node_ids
        lon, lat = compiled.node_lon, compiled.node_lat
        x, y = index.to_metres.transform(lon, lat)
        self.node_lat, self.node_lon = lat, lon
        self.hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
        edge = shapely.boundary(self.hull) if self.hull.geom_type == "Polygon" else self.hull
        near_edge = shapely.distance(edge, shapely.points(x, y)) <= rules.border_band_m
        self.border: IntArray = np.flatnonzero(near_edge).astype(np.int64)
        self._border_tree = cKDTree(np.column_stack([x[self.border], y[self.border]]))
        # A point inside the hull but far from every road (a park, a mountain) enters anywhere.
        self._all_nodes: IntArray = np.arange(ids.size, dtype=np.int64)
        self._all_tree = cKDTree(np.column_stack([x, y]))

    def outside_hull(self, lat: float, lon: float) -> bool:
        """True when (lat, lon) lies outside the convex hull of the graph's nodes."""
        point = self.index.point_metres(lat, lon)
        return not bool(shapely.contains_xy(self.hull, point.x, point.y))

    def speed_mps(self, vehicle: str) -> float:
        """Approach speed of ``vehicle``: its speed on ``rules.road_class`` roads."""
        return self.speeds.metres_per_second(self.rules.road_class, vehicle)

    def road_distance_m(self, lat: float, lon: float) -> float:
        """Metres from (lat, lon) to the nearest road of the graph."""
        point = self.index.point_metres(lat, lon)
        segment = int(self.index.tree.nearest(point))
        return float(shapely.distance(self.index.metric[segment], point))

    def approach(self, lat: float, lon: float, vehicle: str, *, road_distance_m: float) -> Approach:
        """The approach of a point ``road_distance_m`` from the graph (SnapError if too far)."""
        if road_distance_m > self.rules.approach_m:
            raise SnapError(
                f"point ({lat:.6f}, {lon:.6f}) is {road_distance_m:,.0f} m from the nearest road "
                f"of the graph (approach radius {self.rules.approach_m:,.0f} m): outside the "
                "road network"
            )
        point = self.index.point_metres(lat, lon)
        inside = bool(shapely.contains_xy(self.hull, point.x, point.y))
        tree, nodes = (
            (self._all_tree, self._all_nodes) if inside else (self._border_tree, self.border)
        )
        k = min(self.rules.max_entries, nodes.size)
        crow, found = tree.query([point.x, point.y], k=k)
        crow, found = np.atleast_1d(crow), np.atleast_1d(found)
        keep = crow <= crow[0] + self.rules.entry_reach_m
        crow = np.asarray(crow[keep], dtype=np.float64)
        metres = crow * self.rules.detour_factor
        return Approach(
            lat=lat,
            lon=lon,
            road_distance_m=road_distance_m,
            nodes=nodes[np.asarray(found[keep], dtype=np.int64)],
            crow_m=crow,
            road_m=metres,
            seconds=metres / self.speed_mps(vehicle),
        )
