"""Read the Korean standard node-link network (표준노드링크, MOCT_NODE / MOCT_LINK) as a road graph.

The national ITS centre publishes the network that Korean navigation and traffic systems use:
nodes (intersections, road ends, facility ends such as bridge and tunnel portals) and *directed*
links (one row per driving direction) with length, lanes, road rank, speed limit, road name and
vehicle restrictions (height and weight limits). This module reads the CSV form shipped in
``data/seoul/roads/seoul_stdnodelink_2018`` (``*_node.csv`` + ``*_link.csv``) into the same typed
MultiDiGraph the GraphML reader gives (`routing.graphml`), so every routing query works on it:

- node ``x``/``y`` (lon/lat), ``name`` (NODE_NAME), ``node_type`` (101 intersection, ...),
  ``region`` (STNL_REG: 100..124 are the Seoul gu);
- edge ``length`` (SHAPE_STLe, metres), ``highway`` (an OSM-style class derived from ROAD_RANK,
  lanes and the speed limit; connector roads become ``*_link``), ``lanes``, ``name``/``names``
  (ROAD_NAME decoded from its CP949 bytes), ``oneway`` (no link back), ``bridge`` / ``tunnel``
  (ROAD_TYPE 001 bridge, 003 overpass; in this cut 004 tunnel and 002 underpass),
  ``maxspeed_kmh`` (MAX_SPD, None when 0), ``max_height_m`` (REST_H cm -> m),
  ``max_weight_t`` (REST_W kg -> t), ``link_id``, ``road_rank``, ``region``.

Links carry no polyline: a link is drawn as the straight segment between its nodes. Links whose
end node is not in the node file (the cut at the city border) are dropped and counted.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from goldentime import nodelink
from goldentime.nodelink import ROAD_TYPE_FLAGS, NodeLinkFiles, decode_road_name
from routing.errors import GraphLoadError

# ROAD_RANK -> OSM-style highway class (routing.speeds ranks and speeds classes by it).
RANK_HIGHWAY: dict[str, str] = {
    "101": "motorway",  # 고속국도
    "102": "trunk",  # 도시고속도로 (올림픽대로, 강변북로, 내부순환로 ...)
    "103": "primary",  # 일반국도
    "104": "primary",  # 특별·광역시도: Seoul's arterials (세종대로, 테헤란로 ...)
    "105": "secondary",  # 국가지원지방도
    "106": "secondary",  # 지방도
    "107": "tertiary",  # 시군도: city roads; small ones become residential below
}
ROAD_RANK_NAMES: dict[str, str] = {
    "101": "고속국도",
    "102": "도시고속도로",
    "103": "일반국도",
    "104": "특별·광역시도",
    "105": "국가지원지방도",
    "106": "지방도",
    "107": "시군도",
}
NODE_COLUMNS = ("Id", "NODE_NAME", "NODE_TYPE", "STNL_REG", "latitude", "longitude")
LINK_COLUMNS = (
    "LINK_ID", "Source", "Target", "LANES", "ROAD_RANK", "ROAD_NAME", "CONNECT", "MAX_SPD",
    "REST_W", "REST_H", "ROAD_TYPE", "SHAPE_STLe",
)  # fmt: skip


def find_files(directory: Path) -> NodeLinkFiles:
    """The ``*node*.csv`` and ``*link*.csv`` pair in ``directory`` (GraphLoadError if not one)."""
    try:
        return nodelink.find_files(directory)
    except nodelink.NodeLinkFilesError as err:
        raise GraphLoadError(str(err)) from err


def is_nodelink_dir(path: Path) -> bool:
    """True when ``path`` is a directory holding a node-link CSV pair."""
    try:
        find_files(path)
    except GraphLoadError:
        return False
    return True


def highway_class(rank: str, *, lanes: int | None, max_kmh: float | None, connect: str) -> str:
    """OSM-style class of a link: by road rank; small city roads residential; ramps ``*_link``."""
    base = RANK_HIGHWAY.get(rank, "unclassified")
    if rank == "107" and (lanes or 1) <= 1 and (max_kmh or 0) <= 30:
        base = "residential"
    if connect not in ("", "000", "0") and base in ("motorway", "trunk", "primary", "secondary"):
        return f"{base}_link"
    return base


def _float(row: dict[str, str], column: str, where: str) -> float:
    try:
        return float(row[column])
    except (KeyError, TypeError, ValueError) as err:
        raise GraphLoadError(f"{where}: bad {column} {row.get(column)!r}") from err


def _optional_limit(value: float, scale: float) -> float | None:
    return value * scale if value > 0 else None


# Below these a posted limit is a data-entry error, not a sign (no road for motor vehicles is
# signed lower): the Seoul cut has 헌릉로 links with REST_H 45 (cm, a 4.5 m underpass) and REST_W
# 320 (kg, next to the same road's 32,000). They are dropped and counted, not applied.
MIN_HEIGHT_LIMIT_M = 1.5
MIN_WEIGHT_LIMIT_T = 1.0


def _plausible(value: float | None, floor: float) -> float | None:
    return value if value is not None and value >= floor else None


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise GraphLoadError(f"{path}: missing columns {', '.join(missing)}")
            yield from enumerate(reader, start=2)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GraphLoadError(f"cannot read {path}: {err}") from err


def read_nodelink_csv(directory: Path) -> nx.MultiDiGraph:
    """Read a standard node-link CSV pair into a typed MultiDiGraph (see the module doc)."""
    files = find_files(directory)
    graph = nx.MultiDiGraph()
    graph.graph.update({"source": str(directory), "format": "stdnodelink"})
    for line, row in _rows(files.nodes, NODE_COLUMNS):
        where = f"{files.nodes.name} line {line}"
        try:
            node = int(row["Id"])
        except ValueError as err:
            raise GraphLoadError(f"{where}: node Id {row['Id']!r} is not an integer") from err
        lat, lon = _float(row, "latitude", where), _float(row, "longitude", where)
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise GraphLoadError(f"{where}: ({lat}, {lon}) is not WGS84 latitude, longitude")
        graph.add_node(
            node,
            x=lon,
            y=lat,
            name=row["NODE_NAME"].strip() or None,
            node_type=row["NODE_TYPE"].strip(),
            region=int(row["STNL_REG"]) if row["STNL_REG"].strip().isdigit() else None,
        )
    if graph.number_of_nodes() == 0:
        raise GraphLoadError(f"{files.nodes}: no nodes")
    links: list[tuple[int, int, dict[str, Any]]] = []
    dropped = 0
    for line, row in _rows(files.links, LINK_COLUMNS):
        where = f"{files.links.name} line {line}"
        try:
            u, v = int(row["Source"]), int(row["Target"])
        except ValueError as err:
            raise GraphLoadError(f"{where}: Source/Target are not node ids") from err
        if u not in graph or v not in graph:
            dropped += 1  # cut at the border of the extract
            continue
        links.append((u, v, link_attrs(row, where)))
    add_links(graph, links, where=str(files.links))
    graph.graph["links_dropped_outside"] = dropped
    return graph


def add_links(
    graph: nx.MultiDiGraph, links: list[tuple[int, int, dict[str, Any]]], *, where: str
) -> None:
    """Add directed links; a link is ``oneway`` when no link runs back between its nodes."""
    pairs = {(u, v) for u, v, _ in links}
    for u, v, attrs in links:
        attrs["oneway"] = (v, u) not in pairs
        graph.add_edge(u, v, **attrs)
    if not links:
        raise GraphLoadError(f"{where}: no link joins two known nodes")


def link_attrs(row: dict[str, str], where: str) -> dict[str, Any]:
    length = _float(row, "SHAPE_STLe", where)
    if not (length >= 0.0 and length != float("inf")):
        raise GraphLoadError(f"{where}: bad link length {length}")
    lanes_raw = _float(row, "LANES", where) if row["LANES"].strip() else 0.0
    lanes = int(lanes_raw) if lanes_raw > 0 else None
    max_kmh = _optional_limit(_float(row, "MAX_SPD", where), 1.0) if row["MAX_SPD"] else None
    rank = row["ROAD_RANK"].strip()
    name = decode_road_name(row["ROAD_NAME"])
    bridge, tunnel = ROAD_TYPE_FLAGS.get(row["ROAD_TYPE"].strip(), (None, None))
    region = row.get("STNL_REG", "").strip()
    return {
        "length": length,
        "highway": highway_class(
            rank, lanes=lanes, max_kmh=max_kmh, connect=row["CONNECT"].strip()
        ),
        "lanes": lanes,
        "width": None,
        "name": name,
        "names": [name] if name else [],
        "bridge": bridge,
        "tunnel": tunnel,
        "maxspeed_kmh": max_kmh,
        "max_height_m": _plausible(
            _optional_limit(_float(row, "REST_H", where) if row["REST_H"] else 0, 0.01),
            MIN_HEIGHT_LIMIT_M,
        ),
        "max_weight_t": _plausible(
            _optional_limit(_float(row, "REST_W", where) if row["REST_W"] else 0, 0.001),
            MIN_WEIGHT_LIMIT_T,
        ),
        "link_id": int(row["LINK_ID"]) if row["LINK_ID"].strip().isdigit() else None,
        "road_rank": rank or None,
        "region": int(region) if region.isdigit() else None,
    }
