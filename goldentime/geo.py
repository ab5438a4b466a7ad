"""Local geometry in metres around a point: the one place that converts degrees and metres.

Golden Time measures and offsets positions over at most tens of kilometres (a surge area, a
warning circle, a search box, a scene), where a local equirectangular projection on the WGS84
ellipsoid is within a fraction of a percent and costs two multiplications a point (numpy arrays
work as well as floats). Every module uses these instead of its own metres-per-degree constant.

Great-circle distance (:func:`haversine_m`) is for points further apart.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

M_PER_DEG_LAT = 110_574.0
"""Metres in a degree of latitude (WGS84 at the equator; 110,960 m at 37.5 N)."""
M_PER_DEG_LON_EQUATOR = 111_320.0
"""Metres in a degree of longitude at the equator; times cos(latitude) elsewhere."""
EARTH_RADIUS_M = 6_371_008.8
"""Mean earth radius (IUGG), for great-circle distances."""
_MIN_COS = 1e-6  # keeps longitude spans finite at the poles


def m_per_deg_lon(lat: float) -> float:
    """Metres in a degree of longitude at latitude ``lat``."""
    return M_PER_DEG_LON_EQUATOR * max(math.cos(math.radians(lat)), _MIN_COS)


def span_degrees(lat: float, metres: float) -> tuple[float, float]:
    """Half sizes (dlat, dlon) in degrees of a box reaching ``metres`` from a point at ``lat``."""
    return metres / M_PER_DEG_LAT, metres / m_per_deg_lon(lat)


def offset(lat: float, lon: float, *, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` north and ``east_m`` east of (lat, lon)."""
    return lat + north_m / M_PER_DEG_LAT, lon + east_m / m_per_deg_lon(lat)


def destination(
    lat: float, lon: float, *, bearing_rad: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) in direction ``bearing_rad`` (0 = north)."""
    return offset(
        lat,
        lon,
        north_m=distance_m * math.cos(bearing_rad),
        east_m=distance_m * math.sin(bearing_rad),
    )


def local_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres between two nearby points (equirectangular at their mean latitude)."""
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    dx = (lon2 - lon1) * m_per_deg_lon((lat1 + lat2) / 2)
    return math.hypot(dx, dy)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle metres between two points on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class LocalProjection:
    """Metres east (x) and north (y) of an origin; floats or numpy arrays."""

    __slots__ = ("kx", "lat0", "lon0")

    def __init__(self, lat0: float, lon0: float, *, scale_lat: float | None = None) -> None:
        """``scale_lat``: the latitude whose longitude scale is used (default ``lat0``)."""
        self.lat0 = lat0
        self.lon0 = lon0
        self.kx = m_per_deg_lon(lat0 if scale_lat is None else scale_lat)

    def project(self, lat: Any, lon: Any) -> tuple[Any, Any]:
        """(x, y) metres of (lat, lon); arrays in, arrays out."""
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * (
            M_PER_DEG_LAT
        )

    def unproject(self, x: Any, y: Any) -> tuple[Any, Any]:
        """(lat, lon) of the point (x, y) metres from the origin; floats or arrays."""
        return self.lat0 + y / M_PER_DEG_LAT, self.lon0 + x / self.kx


def parse_latlon(text: str) -> tuple[float, float]:
    """``"LAT,LON"`` as two floats (ValueError naming the expected form otherwise)."""
    try:
        lat_s, lon_s = text.split(",")
        return float(lat_s), float(lon_s)
    except ValueError:
        raise ValueError(f"point {text!r} must be LAT,LON, e.g. 37.5663,126.9779") from None
