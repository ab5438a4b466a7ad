"""Layers as GeoJSON FeatureCollections for the console map, each with its attribution.

Foreign members ``name``, ``title``, ``attribution`` and ``licence`` travel with the
collection (RFC 7946 allows them); coordinates are WGS84 lon/lat.
"""

from __future__ import annotations

from typing import Any

from firemap.access import VEHICLE_SPECS, edge_widths
from firemap.layers import Feature
from firemap.roads import edge_line_wgs84, road_attribution, road_licence
from firemap.safety_map import SafetyMap
from goldentime.boundaries import ATTRIBUTION as BOUNDARY_ATTRIBUTION

NO_ACCESS_LAYER = "no_access"


def _feature(f: Feature) -> dict[str, Any]:
    if f.line is not None:
        geometry: dict[str, Any] = {"type": "LineString", "coordinates": [list(c) for c in f.line]}
    else:
        geometry = {"type": "Point", "coordinates": [round(f.lon, 7), round(f.lat, 7)]}
    return {"type": "Feature", "id": f.id, "geometry": geometry, "properties": dict(f.props)}


def layer_names(safety_map: SafetyMap) -> list[str]:
    names = list(safety_map.loaded) + list(safety_map.boundaries.layers)
    if safety_map.graph is not None:
        names.append(NO_ACCESS_LAYER)
    return names


def _no_access(safety_map: SafetyMap) -> dict[str, Any]:
    graph = safety_map.graph
    assert graph is not None
    widths = edge_widths(graph, devices=safety_map.device_points())
    features = []
    for (u, v, k), width in widths.items():
        barred = sorted(
            name for name, edges in safety_map.restrictions.items() if (u, v, k) in edges
        )
        if not barred:
            continue
        line = edge_line_wgs84(graph, u, v, graph.edges[u, v, k])
        features.append(
            {
                "type": "Feature",
                "id": f"{u}-{v}-{k}",
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in line.coords]},
                "properties": {
                    "name": graph.edges[u, v, k].get("name"),
                    "highway": width.highway,
                    "width_m": width.width_m,
                    "width_class": width.width_class,
                    "basis": width.basis,
                    "barred": barred,
                },
            }
        )
    return {
        "title": "Edges barred to some vehicle classes (estimated usable width)",
        "attribution": f"{road_attribution(graph)}; 서울시 비상소화장치 위치정보 (KOGL Type 1)",
        "licence": road_licence(graph),
        "vehicles": {n: s.required_width_m for n, s in VEHICLE_SPECS.items()},
        "features": features,
    }


def layer_geojson(safety_map: SafetyMap, name: str) -> dict[str, Any]:
    """One layer as a FeatureCollection; KeyError names the known layers."""
    body: dict[str, Any]
    if name in safety_map.loaded:
        layer = safety_map.loaded[name]
        body = {
            "title": layer.spec.title,
            "attribution": layer.spec.attribution,
            "licence": layer.spec.licence,
            "features": [_feature(f) for f in layer.features],
        }
    elif name in safety_map.boundaries.layers:
        boundary = safety_map.boundaries.layers[name]
        body = {
            "title": boundary.spec.title,
            "attribution": BOUNDARY_ATTRIBUTION,
            "licence": "Apache-2.0",
            "features": boundary.features,
        }
    elif name == NO_ACCESS_LAYER and safety_map.graph is not None:
        body = _no_access(safety_map)
    else:
        raise KeyError(f"unknown layer {name!r}; known: {', '.join(layer_names(safety_map))}")
    return {"type": "FeatureCollection", "name": name, **body}
