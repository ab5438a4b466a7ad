"""Read an OSMnx GraphML road graph with networkx and give its attributes proper types.

``networkx.read_graphml`` returns every OSMnx attribute as a string, and OSMnx writes merged
(simplified) edges' attributes as Python-list literals such as ``"['창경궁로', '배오개다리']"``.
This module turns them into: node ``x``/``y`` float (lon/lat); edge ``length`` float metres,
``highway`` str (the most important class of a list), ``lanes`` int|None (max), ``width``
float|None (max, metres), ``name`` str|None (first) plus ``names`` (all), ``oneway`` bool,
``bridge``/``tunnel`` str|None, ``geometry`` shapely LineString (lon/lat) or absent.
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import shapely
from shapely.geometry import LineString

from routing.errors import GraphLoadError
from routing.speeds import highway_rank

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _as_list(raw: Any) -> list[str]:
    """Split an OSMnx attribute that may be a list literal into its string items."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw]
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    return [text] if text else []


def _max_number(raw: Any) -> float | None:
    values = [float(m) for item in _as_list(raw) for m in _NUMBER.findall(item)]
    return max(values) if values else None


def _as_bool(raw: Any) -> bool:
    return any(item.strip().lower() in {"true", "yes", "1", "-1"} for item in _as_list(raw))


def _first_flag(raw: Any) -> str | None:
    flags = [item for item in _as_list(raw) if item.lower() not in {"no", "false", ""}]
    return flags[0] if flags else None


def _pick_highway(raw: Any) -> str | None:
    classes = _as_list(raw)
    return min(classes, key=highway_rank) if classes else None


def read_graphml(path: Path) -> nx.MultiDiGraph:
    """Read ``path`` into a MultiDiGraph with integer node ids and typed attributes.

    Raises GraphLoadError naming the file and, for missing attributes, the node or edge.
    """
    if not path.is_file():
        raise GraphLoadError(f"road graph file not found: {path}")
    try:
        raw = nx.read_graphml(path, force_multigraph=True)
    except (ET.ParseError, nx.NetworkXError, ValueError, KeyError, UnicodeDecodeError) as err:
        raise GraphLoadError(f"cannot read road graph {path}: not valid GraphML ({err})") from err
    if raw.number_of_nodes() == 0:
        raise GraphLoadError(f"road graph {path} has no nodes")
    if not raw.is_directed():
        raw = raw.to_directed()
    return type_graph(raw, source=str(path))


def _node_id(node: Any, source: str) -> int:
    try:
        return int(node)
    except (TypeError, ValueError) as err:
        raise GraphLoadError(f"road graph {source}: node id {node!r} is not an integer") from err


def type_graph(raw: nx.MultiDiGraph, *, source: str) -> nx.MultiDiGraph:
    """Return a new MultiDiGraph with typed attributes from a string-attributed one."""
    graph = nx.MultiDiGraph()
    graph.graph.update({k: v for k, v in raw.graph.items() if isinstance(v, str)})
    for node, data in raw.nodes(data=True):
        nid = _node_id(node, source)
        try:
            x, y = float(data["x"]), float(data["y"])
        except KeyError as err:
            raise GraphLoadError(
                f"road graph {source}: node {node} has no {err.args[0]!r} attribute "
                "(needed: x = longitude, y = latitude)"
            ) from err
        except (TypeError, ValueError) as err:
            raise GraphLoadError(f"road graph {source}: node {node} has bad x/y: {err}") from err
        if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            raise GraphLoadError(
                f"road graph {source}: node {node} at x={x}, y={y} is not lon/lat (EPSG:4326)"
            )
        graph.add_node(nid, x=x, y=y)
    for u, v, key, data in raw.edges(keys=True, data=True):
        graph.add_edge(
            _node_id(u, source),
            _node_id(v, source),
            key=int(key),
            **_edge_attrs(u, v, key, data, source),
        )
    return graph


def _edge_attrs(u: Any, v: Any, key: Any, data: dict[str, Any], source: str) -> dict[str, Any]:
    where = f"road graph {source}: edge ({u}, {v}, {key})"
    if "length" not in data:
        raise GraphLoadError(f"{where} has no 'length' attribute (metres)")
    try:
        length = float(data["length"])
    except (TypeError, ValueError) as err:
        raise GraphLoadError(f"{where} has a bad length {data['length']!r}") from err
    if not length >= 0.0 or length == float("inf"):
        raise GraphLoadError(f"{where} has a bad length {length}")
    highway = _pick_highway(data.get("highway"))
    if highway is None:
        raise GraphLoadError(f"{where} has no 'highway' attribute (needed for travel speeds)")
    lanes = _max_number(data.get("lanes"))
    names = _as_list(data.get("name"))
    attrs: dict[str, Any] = {
        "length": length,
        "highway": highway,
        "lanes": int(lanes) if lanes is not None else None,
        "width": _max_number(data.get("width")),
        "name": names[0] if names else None,
        "names": names,
        "oneway": _as_bool(data.get("oneway")),
        "bridge": _first_flag(data.get("bridge")),
        "tunnel": _first_flag(data.get("tunnel")),
        "osmid": data.get("osmid"),
    }
    wkt = data.get("geometry")
    if wkt is not None:
        attrs["geometry"] = _parse_linestring(str(wkt), where)
    return attrs


def _parse_linestring(wkt: str, where: str) -> LineString:
    try:
        geom = shapely.from_wkt(wkt)
    except shapely.errors.GEOSException as err:
        raise GraphLoadError(f"{where} has an unreadable geometry: {err}") from err
    if not isinstance(geom, LineString) or geom.is_empty:
        raise GraphLoadError(f"{where} geometry is not a LINESTRING: {wkt[:60]}")
    return geom
