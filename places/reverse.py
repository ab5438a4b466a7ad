"""Reverse geocoding: which gu and dong a point is in, the nearest named node and road.

Gu and dong come from the shipped boundaries (`goldentime.boundaries`, which keeps the dong
consistent with the gu). The nearest named node of the standard network stands for "the
nearest intersection" (its names are intersections and landmarks: 서울시청, 강남역사거리),
and the nearest link with a road name of its own gives the road. Both searches run on shapely
STRtrees over a local metric projection (equirectangular at Seoul's latitude: under 0.1 %
error across the city), vectorised for a whole board of incidents at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import STRtree

from goldentime.geo import LocalProjection
from places.sources import NamedNode, RoadLink

LAT0 = 37.55
_SEOUL = LocalProjection(LAT0, 127.0)  # x east of 127 E, y north of 37.55 N
# Beyond these a "nearest" answer would mislead (강동구 has no network in this data).
MAX_INTERSECTION_M = 1500.0
MAX_ROAD_M = 300.0


@dataclass(frozen=True, slots=True)
class Reverse:
    """Where a point is, in words: the ``place`` of an incident in the console API."""

    gu: str | None
    dong: str | None  # legal dong (법정동)
    admin_dong: str | None  # administrative dong (행정동)
    intersection: str | None
    intersection_m: int | None
    road: str | None
    road_m: int | None

    @property
    def label(self) -> str:
        parts = [" ".join(p for p in (self.gu, self.dong) if p)]
        if self.intersection:
            parts.append(f"{self.intersection} {self.intersection_m} m")
        if self.road:
            parts.append(self.road)
        return " · ".join(p for p in parts if p)

    def as_json(self) -> dict[str, Any]:
        return {
            "gu": self.gu,
            "dong": self.dong,
            "admin_dong": self.admin_dong,
            "intersection": self.intersection,
            "intersection_m": self.intersection_m,
            "road": self.road,
            "road_m": self.road_m,
            "label": self.label,
        }


def project(lat: Any, lon: Any) -> tuple[Any, Any]:
    """WGS84 -> local metres (x east, y north) around Seoul."""
    return _SEOUL.project(lat, lon)


class ReverseGeocoder:
    """Answers :meth:`reverse` for one point or :meth:`reverse_many` for a batch."""

    def __init__(
        self, *, nodes: Sequence[NamedNode], links: Sequence[RoadLink], boundaries: Any
    ) -> None:
        self._boundaries = boundaries
        self._node_names = [n.name for n in nodes]
        x, y = project([n.lat for n in nodes], [n.lon for n in nodes])
        self._node_tree = STRtree(shapely.points(x, y))
        self._road_names = [link.name for link in links]
        x1, y1 = project([k.lat1 for k in links], [k.lon1 for k in links])
        x2, y2 = project([k.lat2 for k in links], [k.lon2 for k in links])
        coords = np.stack([np.stack([x1, y1], axis=1), np.stack([x2, y2], axis=1)], axis=1)
        self._road_tree = STRtree(shapely.linestrings(coords))

    def reverse(self, lat: float, lon: float) -> Reverse:
        return self.reverse_many([(lat, lon)])[0]

    def reverse_many(self, points: Sequence[tuple[float, float]]) -> list[Reverse]:
        if not points:
            return []
        lats = np.array([p[0] for p in points], dtype=float)
        lons = np.array([p[1] for p in points], dtype=float)
        geoms = shapely.points(*project(lats, lons))
        node_hit = _nearest(self._node_tree, geoms, MAX_INTERSECTION_M)
        road_hit = _nearest(self._road_tree, geoms, MAX_ROAD_M)
        out = []
        for i, (lat, lon) in enumerate(points):
            areas = self._boundaries.locate(lat, lon)
            node, road = node_hit.get(i), road_hit.get(i)
            out.append(
                Reverse(
                    gu=_name(areas.get("gu")),
                    dong=_name(areas.get("legal_dong")),
                    admin_dong=_name(areas.get("admin_dong")),
                    intersection=None if node is None else self._node_names[node[0]],
                    intersection_m=None if node is None else round(node[1]),
                    road=None if road is None else self._road_names[road[0]],
                    road_m=None if road is None else round(road[1]),
                )
            )
        return out


def _name(area: Any) -> str | None:
    return None if area is None else str(area.name)


def _nearest(tree: STRtree, geoms: Any, max_m: float) -> dict[int, tuple[int, float]]:
    """Point index -> (nearest item, metres) for the points with one within ``max_m``."""
    (points, items), dists = tree.query_nearest(
        geoms, max_distance=max_m, return_distance=True, all_matches=False
    )
    return {int(p): (int(t), float(d)) for p, t, d in zip(points, items, dists, strict=True)}
