"""Spatial cells: the unit of partitioning and locking for correlation.

A cell is about 550 m x 550 m in Seoul. Calls are keyed by cell on the ``calls`` topic, so one
worker sees most neighbours; near a cell border the neighbours may be in another cell (and
another partition), so correlation always searches every cell the radius touches and locks
them in the database before deciding.
"""

from __future__ import annotations

import math

from goldentime.geo import EARTH_RADIUS_M as EARTH_RADIUS_M  # re-exported
from goldentime.geo import haversine_m, span_degrees

CELL_LAT_DEG = 0.005  # ~556 m
CELL_LON_DEG = 0.00625  # ~551 m at 37.5 N


def cell_index(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_LAT_DEG), math.floor(lon / CELL_LON_DEG)


def cell_of(lat: float, lon: float) -> str:
    """The id of the cell holding a point, e.g. ``'7513:20316'``."""
    row, col = cell_index(lat, lon)
    return f"{row}:{col}"


def cell_span(lat: float, lon: float, radius_m: float) -> tuple[int, int, int, int]:
    """First and last row and column of the cells a circle of ``radius_m`` touches."""
    dlat, dlon = span_degrees(lat, radius_m)
    r0, c0 = cell_index(lat - dlat, lon - dlon)
    r1, c1 = cell_index(lat + dlat, lon + dlon)
    return r0, r1, c0, c1


def cells_within(lat: float, lon: float, radius_m: float) -> list[str]:
    """Every cell a circle of ``radius_m`` around the point touches (sorted, for locking)."""
    r0, r1, c0, c1 = cell_span(lat, lon, radius_m)
    return sorted(f"{r}:{c}" for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))


distance_m = haversine_m  # great-circle distance in metres
