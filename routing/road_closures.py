"""Road closures: by edge id, by polygon, by point + radius; reopen; GeoJSON view.

A closure holds the arcs it closes. Each arc keeps a count of the closures covering it in the
compiled graph, so overlapping closures reopen correctly; every change patches the compiled
weights of the touched arcs only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from routing.compiled import CompiledGraph, IntArray
from routing.errors import RoutingError
from routing.snapping import EdgeIndex


@dataclass(frozen=True)
class Closure:
    """One closure: what it closes and why."""

    closure_id: str
    kind: str  # "edges" | "polygon" | "radius"
    reason: str
    arcs: IntArray
    area: dict[str, Any] | None  # GeoJSON geometry of the closed area, lon/lat


class ClosureRegistry:
    """The open closures of one road network."""

    def __init__(self, compiled: CompiledGraph, index: EdgeIndex) -> None:
        self._compiled = compiled
        self._index = index
        self._closures: dict[str, Closure] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._closures)

    def get(self, closure_id: str) -> Closure:
        """The closure with this id, or RoutingError."""
        try:
            return self._closures[closure_id]
        except KeyError as err:
            known = ", ".join(self._closures) or "none"
            raise RoutingError(f"no open closure {closure_id!r} (open: {known})") from err

    def _add(self, kind: str, reason: str, arcs: IntArray, area: dict[str, Any] | None) -> str:
        closure_id = f"closure-{next(self._ids)}"
        self._closures[closure_id] = Closure(closure_id, kind, reason, arcs, area)
        self._compiled.closure_count[arcs] += 1
        self._compiled.refresh_arcs(arcs)
        return closure_id

    def close_edges(self, edges: Iterable[tuple[int, int, int]], *, reason: str) -> str:
        """Close the given networkx edges (one direction each)."""
        arcs = self._compiled.arcs_of(edges)
        if arcs.size == 0:
            raise RoutingError("close_edges: no edges given")
        return self._add("edges", reason, arcs, None)

    def close_area(self, area_lonlat: shapely.Geometry, *, kind: str, reason: str) -> str:
        """Close both directions of every road segment intersecting a lon/lat area."""
        if area_lonlat.is_empty or not area_lonlat.is_valid:
            raise RoutingError(f"closure area is empty or invalid: {area_lonlat.wkt[:80]}")
        segments = self._index.within(self._index.polygon_metres(area_lonlat))
        arcs = self._arcs_of_segments(segments)
        return self._add(kind, reason, arcs, mapping(area_lonlat))

    def close_radius(self, lat: float, lon: float, radius_m: float, *, reason: str) -> str:
        """Close every road segment within ``radius_m`` of (lat, lon)."""
        if not (0.0 < radius_m <= 50_000.0):
            raise RoutingError(f"closure radius must be in (0, 50000] m, got {radius_m}")
        circle = self._index.point_metres(lat, lon).buffer(radius_m, quad_segs=16)
        segments = self._index.within(circle)
        arcs = self._arcs_of_segments(segments)
        area = shapely.transform(circle, self._index.unproject)
        return self._add("radius", reason, arcs, mapping(area))

    def _arcs_of_segments(self, segments: IntArray) -> IntArray:
        arcs = [a for s in segments for a in self._index.arcs_of_segment(int(s))]
        return np.unique(np.asarray(arcs, dtype=np.int64))

    def reopen(self, closure_id: str) -> None:
        """Reopen a closure; arcs still covered by another closure stay closed."""
        closure = self.get(closure_id)
        del self._closures[closure_id]
        self._compiled.closure_count[closure.arcs] -= 1
        self._compiled.refresh_arcs(closure.arcs)

    def geojson(self) -> dict[str, Any]:
        """A FeatureCollection: per closure its closed roads (and its area when it has one)."""
        features: list[dict[str, Any]] = []
        compiled, index = self._compiled, self._index
        for closure in self._closures.values():
            lines = [index.arc_coords(int(a)).tolist() for a in closure.arcs]
            properties = {
                "closure_id": closure.closure_id,
                "kind": closure.kind,
                "reason": closure.reason,
                "edge_count": int(closure.arcs.size),
                "edges": [list(compiled.edges[int(a)]) for a in closure.arcs],
            }
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                    "properties": {**properties, "role": "closed_roads"},
                }
            )
            if closure.area is not None:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": closure.area,
                        "properties": {**properties, "role": "area", "edges": []},
                    }
                )
        return {"type": "FeatureCollection", "features": features}


def area_from_geojson(polygon: Any) -> shapely.Geometry:
    """A shapely (Multi)Polygon from a GeoJSON geometry/Feature dict or a shapely geometry."""
    if isinstance(polygon, shapely.Geometry):
        geom = polygon
    elif isinstance(polygon, dict):
        data = polygon.get("geometry", polygon) if polygon.get("type") == "Feature" else polygon
        try:
            geom = shape(data)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise RoutingError(f"closure polygon is not GeoJSON: {err}") from err
    else:
        raise RoutingError(f"closure polygon must be GeoJSON or shapely, got {type(polygon)}")
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise RoutingError(f"closure area must be a Polygon or MultiPolygon, got {geom.geom_type}")
    return geom
