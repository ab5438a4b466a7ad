"""Spatial indexes over a layer's geometries in EPSG:5186 metres.

:class:`TreeIndex` (shapely 2 STRtree) is what the map uses; :class:`LinearIndex` computes the
same answers by measuring every geometry and exists as the baseline for the benchmark and as
an oracle in tests. Both return hits nearest first, with distances in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely import STRtree

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


class SpatialIndex(Protocol):
    def within(self, x: float, y: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        """Indices of geometries within ``radius_m`` of (x, y), nearest first, and distances."""

    def nearest(self, x: float, y: float, k: int) -> tuple[IntArray, FloatArray]:
        """The ``k`` nearest geometries (fewer if the layer is smaller), nearest first."""


def _sorted(idx: IntArray, dist: FloatArray) -> tuple[IntArray, FloatArray]:
    order = np.lexsort((idx, dist))
    return idx[order], dist[order]


class TreeIndex:
    def __init__(self, geoms: Sequence[Any] | NDArray[Any]) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self._tree = STRtree(self.geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def within(self, x: float, y: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        point = shapely.Point(x, y)
        idx = self._tree.query(point, predicate="dwithin", distance=radius_m)
        if len(idx) == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        dist = shapely.distance(self.geoms[idx], point)
        return _sorted(idx.astype(np.intp), dist.astype(np.float64))

    def nearest(self, x: float, y: float, k: int) -> tuple[IntArray, FloatArray]:
        if len(self.geoms) == 0 or k <= 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        radius = 500.0
        while True:
            idx, dist = self.within(x, y, radius)
            if len(idx) >= k or len(idx) == len(self.geoms):
                return idx[:k], dist[:k]
            radius *= 4


class LinearIndex:
    """Measures every geometry: O(n) per query. Baseline and test oracle."""

    def __init__(self, geoms: Sequence[Any] | NDArray[Any]) -> None:
        self.geoms = np.asarray(geoms, dtype=object)

    def __len__(self) -> int:
        return len(self.geoms)

    def _all(self, x: float, y: float) -> FloatArray:
        return np.asarray(shapely.distance(self.geoms, shapely.Point(x, y)), dtype=np.float64)

    def within(self, x: float, y: float, radius_m: float) -> tuple[IntArray, FloatArray]:
        dist = self._all(x, y)
        idx = np.flatnonzero(dist <= radius_m).astype(np.intp)
        return _sorted(idx, dist[idx])

    def nearest(self, x: float, y: float, k: int) -> tuple[IntArray, FloatArray]:
        dist = self._all(x, y)
        idx, d = _sorted(np.arange(len(dist), dtype=np.intp), dist)
        return idx[:k], d[:k]
