"""``GET /api/basemap/roads``: the routing graph's roads as simplified GeoJSON, built once.

No map tiles are reachable offline, so the board draws the shipped central-Seoul drive graph
(OpenStreetMap, ODbL) itself: one feature per road class, each a simplified MultiLineString.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio.to_thread
import networkx as nx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import LineString, MultiLineString, mapping

from console.errors import ConsoleError

SIMPLIFY_DEG = 0.00004  # about 4 m at Seoul's latitude
MAJOR = ("motorway", "trunk", "primary", "secondary", "tertiary")


def _road_class(highway: str) -> str:
    kind = highway.strip("[]'\" ").split("'")[0].removesuffix("_link")
    return kind if kind in MAJOR else "minor"


def build_roads_geojson(graphml: Path) -> dict[str, Any]:
    """Every road of ``graphml`` once (not per direction), grouped and simplified per class."""
    try:
        graph = nx.read_graphml(graphml)
    except (OSError, nx.NetworkXError, ValueError) as err:
        raise ConsoleError(f"cannot read the road graph {graphml}: {err}") from err
    seen: set[tuple[str, str]] = set()
    lines: dict[str, list[LineString]] = {}
    for u, v, data in graph.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        try:
            if data.get("geometry"):
                line = wkt.loads(data["geometry"])
            else:
                a, b = graph.nodes[u], graph.nodes[v]
                line = LineString([(float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"]))])
        except (KeyError, ValueError, ShapelyError) as err:
            raise ConsoleError(f"{graphml}: edge {u}->{v} has no usable geometry: {err}") from err
        lines.setdefault(_road_class(str(data.get("highway", ""))), []).append(line)
    features = [
        {
            "type": "Feature",
            "properties": {"class": kind, "segments": len(parts)},
            "geometry": mapping(MultiLineString(parts).simplify(SIMPLIFY_DEG)),
        }
        for kind, parts in sorted(lines.items())
    ]
    return {"type": "FeatureCollection", "features": features}


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946)."""

    media_type = "application/geo+json"


def add_basemap_roads_route(app: FastAPI, *, graphml: Path) -> None:
    lock = threading.Lock()
    cache: dict[str, dict[str, Any]] = {}

    def roads() -> dict[str, Any]:
        with lock:
            if "roads" not in cache:
                cache["roads"] = build_roads_geojson(graphml)
            return cache["roads"]

    @app.get("/api/basemap/roads", tags=["map"], response_class=GeoJSONResponse)
    async def basemap_roads() -> JSONResponse:
        """Roads of the routing graph (GeoJSON, simplified), drawn as the offline basemap."""
        body = await anyio.to_thread.run_sync(roads)
        return GeoJSONResponse(body)
