"""The console's offline basemap, built from the project's own data (no tile server offline).

- Roads: the configured routing network (``routing.load_network(settings=...)``; Seoul-wide
  standard node-link by default), one MultiLineString per road class, at three levels of
  detail chosen by the map's zoom (``LEVELS``): the city view draws only the arterials,
  simplified; zoomed in, every link. Links of the standard network have no polyline: each is
  the straight segment between its nodes; chains are merged before simplifying.
- Network coverage: the gu the network does not cover, by routing's rule
  (``routing.network_info.gu_coverage``, the same answer as ``goldentime network info``):
  강동구 in the 2018 standard node-link cut. The map hatches it and says that its incidents are
  reached by an estimated approach leg (routing.approach_legs), not over the network.
- Safety centres: the 119 안전센터 of ``units/fire_units.csv``, for the queue's station-area
  filter (the nearest centre in a straight line: the firemap's responsible-station rule).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import shapely
from shapely.geometry import LineString, MultiLineString, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from console.errors import ConsoleError

MAJOR = ("motorway", "trunk", "primary", "secondary", "tertiary")
CLASSES = (*MAJOR, "minor")
MISSING_NOTE = "도로망 미포함 — 접근 추정"
MISSING_NOTE_EN = "not in the road network: reached by an estimated approach leg"
HATCH_SPACING_DEG = 0.004  # about 350-450 m between hatch lines
GU_NAME = "SIG_KOR_NM"
Segments = dict[tuple[str, bool], list[LineString]]  # (class, is_link) -> straight pieces


@dataclass(frozen=True)
class Level:
    """One level of detail: the road classes drawn and how much they are simplified."""

    name: str
    classes: tuple[str, ...]
    links: bool  # ramps and connectors (``*_link``)
    tolerance_deg: float  # Douglas-Peucker tolerance (0: none)
    decimals: int  # coordinates rounded to this many decimals of a degree
    min_zoom: int


LEVELS: dict[str, Level] = {
    level.name: level
    for level in (
        Level("city", ("motorway", "trunk", "primary"), False, 0.0002, 4, 0),
        Level("district", MAJOR, True, 0.00003, 5, 13),
        Level("street", CLASSES, True, 0.0, 5, 15),
    )
}


def road_class(highway: object) -> tuple[str, bool]:
    """(class, is_link) of an edge's ``highway`` (OSMnx may give a list as text)."""
    kind = str(highway).strip("[]'\" ").split("'")[0]
    link = kind.endswith("_link")
    kind = kind.removesuffix("_link")
    return (kind if kind in MAJOR else "minor", link)


def round_coords(value: Any, decimals: int) -> Any:
    """GeoJSON coordinates (nested lists/tuples of floats) rounded to ``decimals``."""
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, (list, tuple)):
        return [round_coords(v, decimals) for v in value]
    return value


def road_segments(graph: nx.MultiDiGraph) -> Segments:
    """Every road of ``graph`` once (not once per direction), grouped by (class, is_link)."""
    seen: set[tuple[Any, Any]] = set()
    out: Segments = {}
    for u, v, data in graph.edges(data=True):
        key = (u, v) if str(u) <= str(v) else (v, u)
        if key in seen:
            continue
        seen.add(key)
        geometry = data.get("geometry")
        try:
            if isinstance(geometry, LineString):
                line = geometry
            elif isinstance(geometry, str) and geometry:
                line = shapely.from_wkt(geometry)
            else:
                a, b = graph.nodes[u], graph.nodes[v]
                line = LineString([(float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"]))])
        except (KeyError, TypeError, ValueError, shapely.errors.ShapelyError) as err:
            raise ConsoleError(f"road network edge {u}->{v} has no usable geometry: {err}") from err
        out.setdefault(road_class(data.get("highway", "")), []).append(line)
    return out


def roads_geojson(segments: Segments, level: Level) -> dict[str, Any]:
    """The roads of ``level``: one feature per class, chains merged, simplified, rounded."""
    features = []
    for kind in level.classes:
        parts = list(segments.get((kind, False), []))
        if level.links:
            parts += segments.get((kind, True), [])
        if not parts:
            continue
        merged: BaseGeometry = linemerge(MultiLineString(parts))
        if level.tolerance_deg:
            merged = merged.simplify(level.tolerance_deg, preserve_topology=False)
        geometry = mapping(merged)
        features.append(
            {
                "type": "Feature",
                "properties": {"class": kind, "segments": len(parts)},
                "geometry": {
                    "type": geometry["type"],
                    "coordinates": round_coords(geometry["coordinates"], level.decimals),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "properties": {"level": level.name, "min_zoom": level.min_zoom},
        "features": features,
    }


def read_gu(path: Path) -> list[dict[str, Any]]:
    """The gu boundary features of the shipped GeoJSON (ConsoleError when unreadable)."""
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        unnamed = [f for f in features if GU_NAME not in f["properties"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ConsoleError(f"cannot read the gu boundaries {path}: {err}") from err
    if unnamed:
        raise ConsoleError(f"gu boundaries {path}: {len(unnamed)} features without {GU_NAME}")
    return list(features)


def gu_geojson(features: Sequence[dict[str, Any]], *, decimals: int = 5) -> dict[str, Any]:
    """The boundaries with coordinates rounded (1e-5 degree, about 1 m) and a ``name``."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {**f["properties"], "name": f["properties"][GU_NAME]},
                "geometry": {
                    "type": f["geometry"]["type"],
                    "coordinates": round_coords(f["geometry"]["coordinates"], decimals),
                },
            }
            for f in features
        ],
    }


def hatch_lines(polygon: BaseGeometry, *, spacing: float = HATCH_SPACING_DEG) -> BaseGeometry:
    """Diagonal (45 degree) lines ``spacing`` apart, clipped to ``polygon``."""
    minx, miny, maxx, maxy = polygon.bounds
    span = (maxx - minx) + (maxy - miny)
    count = math.ceil(span / spacing) + 1
    lines = [
        LineString([(minx + i * spacing - (maxy - miny), miny), (minx + i * spacing, maxy)])
        for i in range(count)
    ]
    return polygon.intersection(MultiLineString(lines))


@dataclass(frozen=True)
class NetworkCoverage:
    """Which gu the road network covers, and the missing ones as drawable gaps."""

    source: str
    nodes: int
    links: int
    gu_covered: list[str]
    gu_missing: list[str]
    gaps: dict[str, Any]  # FeatureCollection: outline and hatch of every missing gu

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "nodes": self.nodes,
            "links": self.links,
            "gu_covered": self.gu_covered,
            "gu_missing": self.gu_missing,
            "note": MISSING_NOTE,
            "note_en": MISSING_NOTE_EN,
            "gaps": self.gaps,
        }


def network_coverage(
    *,
    source: str,
    nodes: int,
    links: int,
    gu_covered: Iterable[str],
    gu_missing: Iterable[str],
    gu_features: Iterable[dict[str, Any]],
) -> NetworkCoverage:
    """The network's coverage with the outline, hatch and note of every missing gu."""
    missing = sorted(gu_missing)
    gaps: list[dict[str, Any]] = []
    for feature in gu_features:
        name = str(feature["properties"][GU_NAME])
        if name not in missing:
            continue
        polygon = shape(feature["geometry"])
        label = polygon.representative_point()
        props = {"gu": name, "note": MISSING_NOTE, "note_en": MISSING_NOTE_EN}
        gaps.append(
            {
                "type": "Feature",
                "properties": {**props, "role": "outline", "label": [label.y, label.x]},
                "geometry": _rounded(polygon),
            }
        )
        gaps.append(
            {
                "type": "Feature",
                "properties": {**props, "role": "hatch"},
                "geometry": _rounded(hatch_lines(polygon)),
            }
        )
    return NetworkCoverage(
        source=source,
        nodes=nodes,
        links=links,
        gu_covered=sorted(gu_covered),
        gu_missing=missing,
        gaps={"type": "FeatureCollection", "features": gaps},
    )


def _rounded(geometry: BaseGeometry, decimals: int = 5) -> dict[str, Any]:
    g = mapping(geometry)
    return {"type": g["type"], "coordinates": round_coords(g["coordinates"], decimals)}


def safety_centres(units_csv: Path) -> list[dict[str, Any]]:
    """The 119 safety centres (안전센터) with their fire station, for the station-area filter."""
    try:
        with units_csv.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return [
            {
                "id": row["unit_id"],
                "name": row["name"],
                "fire_station": row["parent_name"],
                "fire_station_id": row["parent_id"],
                "lat": round(float(row["lat"]), 6),
                "lon": round(float(row["lon"]), 6),
            }
            for row in rows
            if row["name"].endswith("안전센터")
        ]
    except (OSError, KeyError, ValueError) as err:
        raise ConsoleError(f"cannot read the safety centres {units_csv}: {err}") from err
