"""goldentime.geo: the local projection agrees with the WGS84 ellipsoid near Seoul."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from goldentime.geo import (
    LocalProjection,
    destination,
    haversine_m,
    local_distance_m,
    offset,
    span_degrees,
)

SEOUL = (37.5663, 126.9779)
WGS84 = Geod(ellps="WGS84")


@pytest.mark.parametrize("bearing_deg", [0, 45, 90, 135, 180, 270, 333])
@pytest.mark.parametrize("metres", [10.0, 500.0, 5_000.0])
def test_destination_is_within_half_a_percent_of_the_ellipsoid(
    bearing_deg: float, metres: float
) -> None:
    lat, lon = destination(*SEOUL, bearing_rad=math.radians(bearing_deg), distance_m=metres)
    _az, _back, true_m = WGS84.inv(SEOUL[1], SEOUL[0], lon, lat)
    assert true_m == pytest.approx(metres, rel=0.005)
    assert local_distance_m(*SEOUL, lat, lon) == pytest.approx(metres, rel=1e-3)
    assert haversine_m(*SEOUL, lat, lon) == pytest.approx(true_m, rel=0.005)


def test_offset_north_and_east() -> None:
    lat, lon = offset(*SEOUL, north_m=1000.0, east_m=0.0)
    assert lon == SEOUL[1] and lat > SEOUL[0]
    lat, lon = offset(*SEOUL, north_m=0.0, east_m=-1000.0)
    assert lat == SEOUL[0] and lon < SEOUL[1]


def test_span_covers_the_circle() -> None:
    dlat, dlon = span_degrees(SEOUL[0], 1000.0)
    for lat, lon in ((SEOUL[0] + dlat, SEOUL[1]), (SEOUL[0], SEOUL[1] + dlon)):
        assert WGS84.inv(SEOUL[1], SEOUL[0], lon, lat)[2] >= 1000.0 * 0.995
    assert math.isfinite(span_degrees(90.0, 1000.0)[1]), "finite at the pole"


def test_projection_round_trip_on_arrays_and_floats() -> None:
    projection = LocalProjection(*SEOUL)
    lats = np.array([37.50, 37.5663, 37.60])
    lons = np.array([126.90, 126.9779, 127.10])
    xs, ys = projection.project(lats, lons)
    assert xs[1] == 0.0 and ys[1] == 0.0
    back_lat, back_lon = projection.unproject(xs, ys)
    assert np.allclose(back_lat, lats) and np.allclose(back_lon, lons)
    x, y = projection.project(37.57, 126.98)
    assert projection.unproject(float(x), float(y)) == pytest.approx((37.57, 126.98))
