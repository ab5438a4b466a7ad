"""Firefighting safety map (소방안전지도) for Golden Time.

Before a crew arrives it should know the nearest working hydrants, where a fire engine cannot
get through (and where the emergency fire-hose boxes are instead), the bridges and their safety
grade, nearby CCTV, and which gu, dong and fire station the place belongs to. This package
loads those layers from the shipped Seoul data (validating encoding, CRS, columns and every
row), indexes them with shapely STRtrees in EPSG:5186 metres, and answers:

- ``load_map(data_dir=None) -> SafetyMap``: every layer, loaded once and cached, without road
  access; ``SafetyMap.from_directory(data_dir, graph=...)`` assesses access on a road graph the
  caller loads (firemap does not import routing: ``dispatch.map_roads.safety_map`` composes);
- ``SafetyMap.near(lat, lon, *, radius_m=200) -> NearResult``: hydrants (nearest first, with
  state), devices, hazards, per-vehicle access ("engine reaches X m away, last stretch by
  hose"), CCTV, gu/dong, responsible station, nearest emergency rooms;
- ``firemap.access.vehicle_restrictions(graph, *, devices, vehicle_specs)``: per vehicle class
  the road edges it may not use; ``firemap.access.apply_to(net)`` hands them to `routing`;
- ``layer_geojson(map, name)``: layers as GeoJSON with attribution, for the console.

CLI: ``goldentime firemap near LAT,LON [--radius 200] [--json]``, ``goldentime firemap layers``,
``goldentime firemap import FILE --layer NAME [--lenient]``. See docs/firemap.md.
"""

from firemap.access import (
    VEHICLE_SPECS,
    DevicePoint,
    EdgeWidth,
    VehicleSpec,
    apply_to,
    vehicle_restrictions,
)
from firemap.errors import FiremapDataError, FiremapError, FiremapQueryError, Reject
from firemap.geojson import layer_geojson, layer_names
from firemap.layers import Feature, LoadedLayer, load_layer
from firemap.models import NearResult
from firemap.safety_map import SafetyMap, load_map

__all__ = [
    "VEHICLE_SPECS",
    "DevicePoint",
    "EdgeWidth",
    "Feature",
    "FiremapDataError",
    "FiremapError",
    "FiremapQueryError",
    "LoadedLayer",
    "NearResult",
    "Reject",
    "SafetyMap",
    "VehicleSpec",
    "apply_to",
    "layer_geojson",
    "layer_names",
    "load_layer",
    "load_map",
    "near",
    "vehicle_restrictions",
]


def near(lat: float, lon: float, *, radius_m: float = 200.0) -> NearResult:
    """``load_map().near(...)`` on the shipped data (no per-vehicle road access)."""
    return load_map().near(lat, lon, radius_m=radius_m)
