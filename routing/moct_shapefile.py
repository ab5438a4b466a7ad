"""Read the official standard node-link shapefiles (MOCT_NODE.shp / MOCT_LINK.shp) as a road graph.

The national ITS centre distributes the standard node-link network as two ESRI shapefiles in
EPSG:5186 (Korea 2000 / Central Belt 2010), attributes in CP949: MOCT_NODE (points: NODE_ID,
NODE_TYPE, NODE_NAME, TURN_P, [STNL_REG]) and MOCT_LINK (polylines: LINK_ID, F_NODE, T_NODE,
LANES, ROAD_RANK, ROAD_TYPE, ROAD_NAME, CONNECT, MAX_SPD, REST_W, REST_H, LENGTH, [STNL_REG]).
They are read with pyshp (the CRS from the ``.prj`` WKT, the encoding from the ``.cpg``, else
CP949), projected to WGS84 with pyproj, and typed exactly like the CSV form
(`routing.stdnodelink`): the same attributes, plus each link's polyline as ``geometry``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapefile
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import LineString

from routing.errors import GraphLoadError
from routing.stdnodelink import add_links, link_attrs

DEFAULT_CRS = "EPSG:5186"
DEFAULT_ENCODING = "cp949"
NODE_FIELDS = ("NODE_ID",)
LINK_FIELDS = ("LINK_ID", "F_NODE", "T_NODE", "ROAD_RANK")
# MOCT_LINK field -> the CSV column name routing.stdnodelink.link_attrs reads.
_LINK_COLUMNS = {
    "LINK_ID": "LINK_ID", "LANES": "LANES", "ROAD_RANK": "ROAD_RANK", "ROAD_NAME": "ROAD_NAME",
    "CONNECT": "CONNECT", "MAX_SPD": "MAX_SPD", "REST_W": "REST_W", "REST_H": "REST_H",
    "ROAD_TYPE": "ROAD_TYPE", "STNL_REG": "STNL_REG", "LENGTH": "SHAPE_STLe",
}  # fmt: skip


def find_pair(path: Path) -> tuple[Path, Path]:
    """The MOCT_NODE / MOCT_LINK shapefiles of a directory, or of either file."""
    directory = path if path.is_dir() else path.parent
    shps = list(directory.glob("*.shp"))
    nodes = [p for p in shps if "node" in p.name.lower()]
    links = [p for p in shps if "link" in p.name.lower()]
    if len(nodes) != 1 or len(links) != 1:
        raise GraphLoadError(
            f"standard node-link shapefiles {directory}: expected one *NODE*.shp and one "
            f"*LINK*.shp, found {[p.name for p in nodes]} and {[p.name for p in links]}"
        )
    return nodes[0], links[0]


def is_moct_shapefile(path: Path) -> bool:
    """True for a directory holding a MOCT node/link shapefile pair, or one of the two files."""
    if path.is_file() and path.suffix.lower() != ".shp":
        return False
    try:
        find_pair(path)
    except GraphLoadError:
        return False
    return True


def _crs(shp: Path) -> CRS:
    prj = shp.with_suffix(".prj")
    if not prj.is_file():
        return CRS.from_user_input(DEFAULT_CRS)  # the official distribution's CRS
    try:
        return CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace"))
    except CRSError as err:
        raise GraphLoadError(f"{prj}: unknown coordinate reference system: {err}") from err


def _encoding(shp: Path) -> str:
    cpg = shp.with_suffix(".cpg")
    if cpg.is_file():
        name = cpg.read_text(encoding="ascii", errors="replace").strip()
        return name or DEFAULT_ENCODING
    return DEFAULT_ENCODING


def _records(
    shp: Path, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, Any], list[tuple[float, float]]]]:
    try:
        with shapefile.Reader(str(shp), encoding=_encoding(shp)) as reader:
            names = [f[0] for f in reader.fields[1:]]
            missing = [f for f in required if f not in names]
            if missing:
                raise GraphLoadError(f"{shp}: missing field(s) {', '.join(missing)}")
            for number, item in enumerate(reader.iterShapeRecords(), start=1):
                record = dict(zip(names, item.record, strict=True))
                points = [(float(p[0]), float(p[1])) for p in item.shape.points]
                yield number, record, points
    except (shapefile.ShapefileException, struct.error, OSError, UnicodeDecodeError) as err:
        raise GraphLoadError(f"cannot read shapefile {shp}: {err}") from err


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_moct_shapefiles(path: Path) -> nx.MultiDiGraph:
    """Read MOCT_NODE.shp + MOCT_LINK.shp (a directory or either file) into a typed graph."""
    node_shp, link_shp = find_pair(path)
    graph = nx.MultiDiGraph()
    graph.graph.update({"source": str(path), "format": "moct-shapefile"})
    to_wgs84 = Transformer.from_crs(_crs(node_shp), "EPSG:4326", always_xy=True)
    rows = []
    for number, record, points in _records(node_shp, NODE_FIELDS):
        if not points:
            raise GraphLoadError(f"{node_shp.name} record {number}: no point geometry")
        rows.append((number, record, points[0]))
    if not rows:
        raise GraphLoadError(f"{node_shp}: no nodes")
    lon, lat = to_wgs84.transform(
        np.array([r[2][0] for r in rows]), np.array([r[2][1] for r in rows])
    )
    for (number, record, _), x, y in zip(rows, lon.tolist(), lat.tolist(), strict=True):
        where = f"{node_shp.name} record {number}"
        try:
            node = int(_text(record["NODE_ID"]))
        except ValueError as err:
            raise GraphLoadError(f"{where}: NODE_ID {record['NODE_ID']!r} is not an id") from err
        if not (-90.0 <= y <= 90.0 and -180.0 <= x <= 180.0):
            raise GraphLoadError(f"{where}: projects to ({y}, {x}), not a place on Earth")
        region = _text(record.get("STNL_REG"))
        graph.add_node(
            node, x=x, y=y, name=_text(record.get("NODE_NAME")) or None,
            node_type=_text(record.get("NODE_TYPE")),
            region=int(region) if region.isdigit() else None,
        )  # fmt: skip
    link_to_wgs84 = Transformer.from_crs(_crs(link_shp), "EPSG:4326", always_xy=True)
    links: list[tuple[int, int, dict[str, Any]]] = []
    dropped = 0
    for number, record, points in _records(link_shp, LINK_FIELDS):
        where = f"{link_shp.name} record {number}"
        try:
            u, v = int(_text(record["F_NODE"])), int(_text(record["T_NODE"]))
        except ValueError as err:
            raise GraphLoadError(f"{where}: F_NODE/T_NODE are not node ids") from err
        if u not in graph or v not in graph:
            dropped += 1  # cut at the border of the extract
            continue
        row = {col: _text(record.get(field)) for field, col in _LINK_COLUMNS.items()}
        if not row["SHAPE_STLe"] and len(points) >= 2:
            row["SHAPE_STLe"] = str(LineString(points).length)  # EPSG:5186 is in metres
        attrs = link_attrs(row, where)
        if len(points) >= 2:
            xs, ys = link_to_wgs84.transform(
                np.array([p[0] for p in points]), np.array([p[1] for p in points])
            )
            attrs["geometry"] = LineString(np.column_stack([xs, ys]))
        links.append((u, v, attrs))
    add_links(graph, links, where=str(link_shp))
    graph.graph["links_dropped_outside"] = dropped
    return graph
