"""Snapping points to the nearest road *edge* (not node), in metres.

Arcs that are the two directions of one road (same end nodes, same length) form one
*segment* with one geometry. Segments are projected to a local azimuthal-equidistant plane
(metres) centred on the graph and indexed in a shapely STRtree; a snap returns the segment, the
fraction along it (0 at ``seg_start``) and the distance in metres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry import LineString, Point

from routing.compiled import CompiledGraph, FloatArray, IntArray
from routing.errors import SnapError

DEFAULT_MAX_SNAP_M = 500.0
COORDS_CACHE_SIZE = 50_000  # arc pieces kept by `EdgeIndex.arc_coords` (cleared when full)


@dataclass(frozen=True)
class Snap:
    """Where a point meets the road graph."""

    segment: int
    fraction: float  # along the segment geometry, 0 at its start node
    distance_m: float  # from the point to the road
    lat: float  # the snapped point on the road
    lon: float


class EdgeIndex:
    """Segments of a compiled graph, their geometries, and a nearest-edge index."""

    def __init__(self, graph: nx.MultiDiGraph, compiled: CompiledGraph) -> None:
        c = compiled
        lon, lat = c.node_lon, c.node_lat
        self.lon0, self.lat0 = float(lon.mean()), float(lat.mean())
        crs = f"+proj=aeqd +lat_0={self.lat0} +lon_0={self.lon0} +datum=WGS84 +units=m"
        self.to_metres = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self.to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lo = np.minimum(c.arc_u, c.arc_v)
        hi = np.maximum(c.arc_u, c.arc_v)
        keys = np.stack([lo, hi, np.round(c.arc_length).astype(np.int64)], axis=1)
        _, rep, seg_of_arc = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        self.seg_of_arc: IntArray = seg_of_arc.reshape(-1)
        self.seg_rep: IntArray = rep  # representative arc of each segment
        self.seg_start: IntArray = c.arc_u[rep]
        self.seg_length: FloatArray = c.arc_length[rep]
        self.arc_forward: npt.NDArray[np.bool_] = c.arc_u == self.seg_start[self.seg_of_arc]
        order = np.argsort(self.seg_of_arc, kind="stable")
        bounds = np.searchsorted(self.seg_of_arc[order], np.arange(rep.size + 1))
        self._seg_arcs_order, self._seg_arcs_bounds = order, bounds
        geoms = [c.arc_geometry[arc] for arc in rep.tolist()]
        missing = np.array([g is None for g in geoms])
        if missing.any():  # straight segments between the end nodes, built in one call
            ends = np.stack([c.arc_u[rep[missing]], c.arc_v[rep[missing]]], axis=1)
            coords = np.stack([lon[ends], lat[ends]], axis=2)
            straight = iter(shapely.linestrings(coords))
            geoms = [next(straight) if g is None else g for g in geoms]
        self.lonlat: list[LineString] = geoms
        self.metric = shapely.transform(np.array(self.lonlat, dtype=object), self.project)
        self.tree = shapely.STRtree(self.metric)
        self._coords_cache: dict[tuple[int, float, float], FloatArray] = {}

    def project(self, coords: FloatArray) -> FloatArray:
        """Lon/lat coordinate rows to the local metric plane (for ``shapely.transform``)."""
        x, y = self.to_metres.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def unproject(self, coords: FloatArray) -> FloatArray:
        """Metric-plane coordinate rows back to lon/lat (for ``shapely.transform``)."""
        x, y = self.to_lonlat.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    @property
    def n_segments(self) -> int:
        """Number of road segments (a two-way road counts once)."""
        return int(self.seg_rep.size)

    def arcs_of_segment(self, segment: int) -> list[int]:
        """Arc numbers of both directions (and parallel twins) of a segment."""
        lo, hi = self._seg_arcs_bounds[segment], self._seg_arcs_bounds[segment + 1]
        return [int(a) for a in self._seg_arcs_order[lo:hi]]

    def point_metres(self, lat: float, lon: float) -> Point:
        """A lon/lat point in the local metric plane."""
        x, y = self.to_metres.transform(lon, lat)
        return Point(x, y)

    def snap(
        self,
        lat: float,
        lon: float,
        *,
        max_distance_m: float = DEFAULT_MAX_SNAP_M,
        usable: Callable[[int], bool] | None = None,
    ) -> Snap:
        """Snap (lat, lon) to the nearest segment (that is ``usable``, if given)."""
        if not (np.isfinite(lat) and np.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise SnapError(f"point ({lat}, {lon}) is not a valid latitude, longitude")
        point = self.point_metres(lat, lon)
        segment = int(self.tree.nearest(point))
        distance = float(shapely.distance(self.metric[segment], point))
        if distance > max_distance_m:
            raise SnapError(
                f"point ({lat:.6f}, {lon:.6f}) is {distance:,.0f} m from the nearest road of the "
                f"graph (limit {max_distance_m:,.0f} m): outside the road network"
            )
        if usable is not None and not usable(segment):
            segment, distance = self._nearest_usable(point, max_distance_m, usable, lat, lon)
        return self._make_snap(segment, point, distance)

    def _nearest_usable(
        self,
        point: Point,
        max_distance_m: float,
        usable: Callable[[int], bool],
        lat: float,
        lon: float,
    ) -> tuple[int, float]:
        candidates = self.tree.query(point, predicate="dwithin", distance=max_distance_m)
        dists = shapely.distance(self.metric[candidates], point)
        for idx in np.argsort(dists):
            if usable(int(candidates[idx])):
                return int(candidates[idx]), float(dists[idx])
        raise SnapError(
            f"point ({lat:.6f}, {lon:.6f}): every road within {max_distance_m:,.0f} m is closed "
            "or forbidden for this vehicle"
        )

    def _make_snap(self, segment: int, point: Point, distance: float) -> Snap:
        line = self.metric[segment]
        along = float(shapely.line_locate_point(line, point))
        fraction = along / line.length if line.length > 0 else 0.0
        on_road = shapely.line_interpolate_point(line, along)
        lon, lat = self.to_lonlat.transform(on_road.x, on_road.y)
        return Snap(segment, min(max(fraction, 0.0), 1.0), distance, float(lat), float(lon))

    def arc_coords(self, arc: int, start: float = 0.0, end: float = 1.0) -> FloatArray:
        """Lon/lat coordinates of ``arc`` (in its driving direction) between two fractions.

        Read-only arrays, cached: routes reuse whole arcs and the partial arcs at a unit's
        station and at an incident again and again.
        """
        key = (arc, start, end)
        found = self._coords_cache.get(key)
        if found is None:
            found = self._arc_coords(arc, start, end)
            found.flags.writeable = False
            if len(self._coords_cache) >= COORDS_CACHE_SIZE:
                self._coords_cache.clear()
            self._coords_cache[key] = found
        return found

    def _arc_coords(self, arc: int, start: float, end: float) -> FloatArray:
        segment = int(self.seg_of_arc[arc])
        forward = bool(self.arc_forward[arc])
        if start <= 0.0 and end >= 1.0:
            coords: FloatArray = shapely.get_coordinates(self.lonlat[segment])
            return coords if forward else coords[::-1]
        lo, hi = (start, end) if forward else (1.0 - end, 1.0 - start)
        part = shapely.ops.substring(self.metric[segment], lo, hi, normalized=True)
        coords = self.unproject(shapely.get_coordinates(part))
        return coords if forward else coords[::-1]

    def within(self, geometry_metres: shapely.Geometry) -> IntArray:
        """Segments whose geometry intersects a metric-plane geometry."""
        found: IntArray = self.tree.query(geometry_metres, predicate="intersects")
        return found

    def polygon_metres(self, lonlat_geometry: shapely.Geometry) -> shapely.Geometry:
        """Project a lon/lat geometry into the metric plane."""
        return shapely.transform(lonlat_geometry, self.project)
