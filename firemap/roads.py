"""The road graph as firemap needs it: typed attributes and edge lines in metres.

`firemap` works on any ``networkx.MultiDiGraph`` with the attributes agreed with `routing`
(node ``x``/``y`` in WGS84; edge ``length`` m, ``highway`` str, ``lanes`` int|None, ``width``
float|None, ``name`` str|None, optional ``geometry`` as a shapely LineString or WKT).

:func:`configured_road_graph` is the graph the safety map assesses access on: the configured
network (settings ``routing.network`` / ``routing.graph_path``, Seoul-wide by default), read
by `routing`'s loader. The central OSM graph keeps its own reader, :func:`read_road_graph`
(OSMnx GraphML typed the firemap way: merged edges take their narrowest lane count and class).
"""

from __future__ import annotations

import ast
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import shapely
from shapely import LineString

from firemap.errors import FiremapDataError
from firemap.sources import to_metric

if TYPE_CHECKING:
    from goldentime.settings import Settings

ROAD_GRAPH_FILE = "roads/seoul_central_drive.graphml"  # the central OSM detail graph
ROAD_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0), via OSMnx"
NODE_LINK_ATTRIBUTION = "표준노드링크, 국가교통정보센터 (national ITS centre public data)"

EdgeKey = tuple[Any, Any, Any]


def parse_list(value: Any) -> list[str]:
    """OSMnx merges tags of simplified edges into lists, which GraphML stores as "['a', 'b']"."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raw = str(value).strip()
    if raw.startswith("["):
        try:
            parsed = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return [raw]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [raw] if raw else []


def _min_number(value: Any) -> float | None:
    numbers = []
    for item in parse_list(value):
        try:
            numbers.append(float(item.replace("m", "").strip()))
        except ValueError:
            continue
    return min(numbers) if numbers else None


def read_road_graph(path: Path) -> nx.MultiDiGraph:
    """Read an OSMnx GraphML file into a typed MultiDiGraph (int node ids)."""
    try:
        raw = nx.read_graphml(path, node_type=int)
    except (OSError, nx.NetworkXError, ValueError) as err:
        raise FiremapDataError(f"cannot read road graph: {err}", file=path) from err
    if not isinstance(raw, nx.MultiDiGraph):
        raise FiremapDataError("road graph is not a directed multigraph", file=path)
    graph = nx.MultiDiGraph(**raw.graph)
    for node, data in raw.nodes(data=True):
        try:
            graph.add_node(node, x=float(data["x"]), y=float(data["y"]))
        except (KeyError, ValueError) as err:
            raise FiremapDataError(f"node {node}: bad x/y: {err}", file=path, field="x") from err
    for u, v, key, data in raw.edges(keys=True, data=True):
        lanes = _min_number(data.get("lanes"))
        names = parse_list(data.get("name"))
        attrs: dict[str, Any] = {
            "length": float(data.get("length", 0.0)),
            "highway": str(data.get("highway", "road")),
            "lanes": int(lanes) if lanes is not None else None,
            "width": _min_number(data.get("width")),
            "name": " / ".join(names) if names else None,
        }
        if "geometry" in data:
            attrs["geometry"] = shapely.from_wkt(str(data["geometry"]))
        graph.add_edge(u, v, key=key, **attrs)
    return graph


def road_attribution(graph: nx.MultiDiGraph) -> str:
    """Whose road data ``graph`` is (for GeoJSON ``attribution``)."""
    fmt = str(graph.graph.get("format") or "").lower()
    if fmt.startswith(("stdnodelink", "moct")):
        return NODE_LINK_ATTRIBUTION
    return ROAD_ATTRIBUTION


def road_licence(graph: nx.MultiDiGraph) -> str:
    """The licence of ``graph``'s road data (for GeoJSON ``licence``)."""
    if road_attribution(graph) == NODE_LINK_ATTRIBUTION:
        return "public data of the national ITS centre (roads)"
    return "ODbL 1.0 (roads)"


def configured_road_graph(data_dir: Path, *, settings: Settings | None = None) -> nx.MultiDiGraph:
    """The configured road network of ``data_dir`` (the Seoul data folder) as a typed graph.

    Settings ``routing.graph_path`` wins; else the named ``routing.network`` under ``data_dir``
    (``seoul``: the standard node-link network of the whole city; ``central``: the OSM detail
    graph, read with :func:`read_road_graph`). Other sources go through `routing`'s loader
    (largest strongly connected component, as routing uses it).
    """
    from goldentime.settings import load_settings
    from routing import RoutingError, load_network
    from routing.loading import network_source

    settings = settings or load_settings()
    local = settings.updated(data={"seoul_dir": Path(data_dir)})
    source = network_source(settings=local)
    if source.resolve() == (Path(data_dir) / ROAD_GRAPH_FILE).resolve():
        return read_road_graph(source)
    try:
        return load_network(source).graph
    except RoutingError as err:
        raise FiremapDataError(f"cannot load road network: {err}", file=source) from err


def edge_line_wgs84(
    graph: nx.MultiDiGraph, u: Hashable, v: Hashable, data: dict[str, Any]
) -> LineString:
    geom = data.get("geometry")
    if isinstance(geom, str):
        geom = shapely.from_wkt(geom)
    if isinstance(geom, LineString):
        return geom
    nu, nv = graph.nodes[u], graph.nodes[v]
    return LineString([(float(nu["x"]), float(nu["y"])), (float(nv["x"]), float(nv["y"]))])


def iter_edges(graph: nx.MultiDiGraph) -> Iterator[tuple[EdgeKey, dict[str, Any]]]:
    for u, v, key, data in graph.edges(keys=True, data=True):
        yield (u, v, key), data


def edge_lines_metric(graph: nx.MultiDiGraph) -> tuple[list[EdgeKey], np.ndarray[Any, Any]]:
    """Every edge key and its line in EPSG:5186 metres (one vectorised pyproj call)."""
    keys: list[EdgeKey] = []
    lines: list[LineString] = []
    for (u, v, key), data in iter_edges(graph):
        keys.append((u, v, key))
        lines.append(edge_line_wgs84(graph, u, v, data))
    geoms = np.array(lines, dtype=object)

    def project(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        xs, ys = to_metric(coords[:, 0].astype(np.float64), coords[:, 1].astype(np.float64))
        return np.column_stack([xs, ys])

    return keys, shapely.transform(geoms, project) if len(geoms) else geoms
