"""The registry of monitored structures and their sensors, built from the shipped Seoul data.

Sources (all under ``settings.data.seoul_dir``):

* ``bridges/seoul_bridges_2018.csv``: the 102 Seoul bridges of the national bridge standard
  data (UTF-8; start/end WGS84 points, length, last safety grade A/B/C). Ids ``br18-NNN``
  follow the file's row order (1-based).
* ``roads/central_bridge_edges.csv``: the 25 ``bridge=*`` edges of the central road graph
  (u, v, key, WKT). An edge and its reverse twin are one structure (``gb-{u}-{v}``, smaller
  node first), so a closure closes both directions.
* ``roads/seoul_central_drive.graphml``: tunnel edges (``tunnel=yes``) of the named tunnels
  in :data:`GRAPH_TUNNELS`.
* Public facts (:data:`HAN_BRIDGES`): Jamsu and Hangang bridges, absent from the 2018 release.

Road links: ``Structure.edges`` are edges of the central OSM graph; ``Structure.network_links``
are the structure's links on the Seoul standard node-link network (national MOCT node ids,
checked against ``roads/seoul_stdnodelink_2018`` by tests), for the Han bridges and 사직터널.
On any other network dispatch matches links by geometry and road name
(``dispatch.structure_alarms.directory_of``). The Han bridges' geometry runs through their
node-link nodes (the bridge ends and the mid-river gu border node). Jamsu bridge needs explicit
links: it is the lower deck of Banpo bridge, both carry 반포대로 and share the mid-river node,
so geometry and name alone cannot tell the decks apart; its links are the single-lane ones
from 잠수교진출입_분기점1/2 (north) to the ramps at 잠수교(남단).
"""

from __future__ import annotations

import ast
import csv
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree

from sensors import profiles
from sensors.errors import RegistryError, UnknownSensorError
from sensors.model import SensorSpec, Structure, StructureKind

BRIDGES_FILE = Path("bridges/seoul_bridges_2018.csv")
BRIDGE_EDGES_FILE = Path("roads/central_bridge_edges.csv")
GRAPH_FILE = Path("roads/seoul_central_drive.graphml")
BRIDGE_COLUMNS = ("교량명", "시군구명", "교량시작점위도", "교량시작점경도", "교량종료점위도")
EDGE_COLUMNS = ("u", "v", "key", "name", "length_m", "mid_lat", "mid_lon", "wkt")
GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"

#: Tunnels of the central road graph that are monitored: structure id -> OSM name in the graph.
GRAPH_TUNNELS = {"tn-sajik": "사직터널", "tn-yulgok": "율곡 터널"}
#: Roads the tunnels carry (a link matched by geometry must bear one of these names).
TUNNEL_ROADS = {"tn-sajik": ("사직터널", "사직로"), "tn-yulgok": ("율곡 터널", "율곡로")}
#: The tunnels' links on the Seoul standard node-link network: 사직로 between 사직터널(남측)
#: 1000013100 and 사직터널(북측) 1000015700 (ROAD_TYPE 004: the tunnel code in this release).
#: 율곡터널 (opened 2022) is not in the 2018 network: none.
TUNNEL_NETWORK_LINKS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "tn-sajik": ((1000013100, 1000015700, 0), (1000015700, 1000013100, 0)),
    "tn-yulgok": (),
}


@dataclass(frozen=True, slots=True)
class HanBridge:
    structure_id: str
    name: str
    lat: float
    lon: float
    geometry_wkt: str
    watch_m: float
    warning_m: float
    critical_m: float | None
    note: str
    road_names: tuple[str, ...]
    network_links: tuple[tuple[int, int, int], ...]


#: Geometry through the bridges' node-link nodes (north end, mid-river gu border node, south
#: end); thresholds from NOTES.md "Bridges and rivers".
HAN_BRIDGES = (
    HanBridge(
        structure_id="han-jamsu",
        name="잠수교 (Jamsu bridge)",
        lat=37.51501,
        lon=126.99630,
        geometry_wkt=(
            "LINESTRING (126.993616 37.522002, 126.996300 37.515006, 126.999358 37.508675)"
        ),
        watch_m=5.0,
        warning_m=5.5,
        critical_m=6.2,
        note="pedestrians barred at 5.5 m, vehicles at 6.2 m (NOTES.md)",
        road_names=("반포대로", "잠수교"),
        network_links=(
            (1020038500, 1210047400, 0),  # 잠수교진출입_분기점1 -> 서초구-용산구경계(2), south
            (1210047400, 1210045000, 0),  # -> the ramp to 잠수교(남단)
            (1210045100, 1210047400, 0),  # the ramp from 잠수교(남단) -> mid-river, north
            (1210047400, 1020038600, 0),  # -> 잠수교진출입_분기점2
        ),
    ),
    HanBridge(
        structure_id="han-hangang",
        name="한강대교 (Hangang bridge)",
        lat=37.51560,
        lon=126.95738,
        geometry_wkt=(
            "LINESTRING (126.961700 37.522100, 126.957380 37.515600, 126.956300 37.514000)"
        ),
        watch_m=8.5,
        warning_m=10.5,
        critical_m=None,
        note="Hangang bridge gauge: flood watch 8.5 m, flood warning 10.5 m (NOTES.md)",
        road_names=("양녕로", "한강대로", "한강대교"),
        network_links=(
            (1020037700, 1190022400, 0),  # 강변북로-한강로램프(3) -> 동작구-용산구경계, south
            (1190022400, 1190000200, 0),  # -> 한강대교(남단)
            (1190000200, 1190022400, 0),  # 한강대교(남단) -> mid-river, north
            (1190022400, 1020012100, 0),  # -> 강변북로-한강로램프(2), 한강대교북단
        ),
    ),
)


class SensorRegistry:
    """Structures and sensors by id; lookups raise :class:`UnknownSensorError`."""

    def __init__(self, structures: Iterable[Structure]) -> None:
        self._structures: dict[str, Structure] = {}
        self._sensors: dict[str, SensorSpec] = {}
        for structure in structures:
            if structure.structure_id in self._structures:
                raise RegistryError(f"duplicate structure id {structure.structure_id!r}")
            self._structures[structure.structure_id] = structure
            for sensor in structure.sensors:
                if sensor.sensor_id in self._sensors:
                    raise RegistryError(f"duplicate sensor id {sensor.sensor_id!r}")
                if sensor.structure_id != structure.structure_id:
                    raise RegistryError(
                        f"sensor {sensor.sensor_id!r} names structure {sensor.structure_id!r} "
                        f"but is fitted to {structure.structure_id!r}"
                    )
                self._sensors[sensor.sensor_id] = sensor

    def __len__(self) -> int:
        return len(self._structures)

    def __iter__(self) -> Iterator[Structure]:
        return iter(self._structures.values())

    @property
    def sensor_count(self) -> int:
        return len(self._sensors)

    def sensors(self) -> Iterator[SensorSpec]:
        return iter(self._sensors.values())

    def structure(self, structure_id: str) -> Structure:
        try:
            return self._structures[structure_id]
        except KeyError:
            raise UnknownSensorError(f"unknown structure {structure_id!r}") from None

    def sensor(self, sensor_id: str) -> SensorSpec:
        try:
            return self._sensors[sensor_id]
        except KeyError:
            raise UnknownSensorError(f"unknown sensor {sensor_id!r}") from None

    def summary(self) -> list[dict[str, Any]]:
        """One JSON-ready row per structure (for ``goldentime sensors structures --json``)."""
        return [
            {
                "structure_id": s.structure_id,
                "name": s.name,
                "kind": s.kind.value,
                "source": s.source,
                "gu": s.gu,
                "safety_grade": s.safety_grade,
                "lat": s.lat,
                "lon": s.lon,
                "edges": [list(e) for e in s.edges],
                "network_links": [list(e) for e in s.network_links],
                "road_names": list(s.road_names),
                "sensors": [
                    {"sensor_id": x.sensor_id, "kind": x.kind.value, "unit": x.unit}
                    for x in s.sensors
                ],
            }
            for s in self
        ]


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise RegistryError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise RegistryError(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except (UnicodeDecodeError, csv.Error) as err:
        raise RegistryError(f"{path}: cannot read as UTF-8 CSV: {err}") from err


def _float(path: Path, row_no: int, row: dict[str, str], column: str) -> float:
    raw = (row.get(column) or "").strip()
    try:
        return float(raw)
    except ValueError:
        raise RegistryError(f"{path}: row {row_no}: {column}={raw!r} is not a number") from None


def load_seoul_bridges(path: Path) -> list[Structure]:
    """The bridges of the 2018 national bridge standard data (Seoul rows)."""
    structures = []
    for row_no, row in enumerate(_rows(path, BRIDGE_COLUMNS), start=1):
        lat0, lon0 = (
            _float(path, row_no, row, "교량시작점위도"),
            _float(path, row_no, row, "교량시작점경도"),
        )
        lat1, lon1 = (
            _float(path, row_no, row, "교량종료점위도"),
            _float(path, row_no, row, "교량종료점경도"),
        )
        grade = (row.get("최종안전점검결과") or "").strip() or None
        length_raw = (row.get("교량연장") or "").strip()
        length = float(length_raw) if length_raw else None
        sid = f"br18-{row_no:03d}"
        fitted = [profiles.deck_accelerometer(sid)]
        if grade == "C" and length:
            fitted.append(profiles.displacement_gauge(sid, length))
        structures.append(
            Structure(
                structure_id=sid,
                name=row["교량명"].strip(),
                kind=StructureKind.BRIDGE,
                source=f"{BRIDGES_FILE} row {row_no}",
                lat=(lat0 + lat1) / 2,
                lon=(lon0 + lon1) / 2,
                geometry_wkt=f"LINESTRING ({lon0} {lat0}, {lon1} {lat1})",
                gu=row["시군구명"].strip() or None,
                safety_grade=grade,
                length_m=length,
                sensors=tuple(fitted),
            )
        )
    return structures


def _edge_name(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return " / ".join(str(n) for n in ast.literal_eval(raw))
        except (ValueError, SyntaxError):
            return raw
    return "" if raw == "None" else raw


def load_graph_bridges(path: Path) -> list[Structure]:
    """The bridge edges of the central road graph, reverse twins merged into one structure."""
    grouped: dict[tuple[int, int], list[tuple[int, dict[str, str]]]] = {}
    for row_no, row in enumerate(_rows(path, EDGE_COLUMNS), start=1):
        try:
            u, v = int(row["u"]), int(row["v"])
            int(row["key"])
        except ValueError:
            raise RegistryError(f"{path}: row {row_no}: u, v and key must be integers") from None
        if not row["wkt"].startswith("LINESTRING"):
            raise RegistryError(f"{path}: row {row_no}: wkt is not a LINESTRING")
        grouped.setdefault((min(u, v), max(u, v)), []).append((row_no, row))
    structures = []
    for (a, b), members in grouped.items():
        row_no, first = members[0]
        sid = f"gb-{a}-{b}"
        structures.append(
            Structure(
                structure_id=sid,
                name=_edge_name(first["name"]) or f"bridge edge {a}-{b}",
                kind=StructureKind.BRIDGE,
                source=f"{BRIDGE_EDGES_FILE} row(s) {', '.join(str(n) for n, _ in members)}",
                lat=_float(path, row_no, first, "mid_lat"),
                lon=_float(path, row_no, first, "mid_lon"),
                geometry_wkt=first["wkt"],
                length_m=_float(path, row_no, first, "length_m"),
                edges=tuple((int(r["u"]), int(r["v"]), int(r["key"])) for _, r in members),
                sensors=(profiles.deck_accelerometer(sid),),
            )
        )
    return structures


TunnelEdges = Mapping[str, tuple[tuple[int, int, int, str], ...]]


def _graphml_tunnel_edges(path: Path) -> TunnelEdges:
    """Tunnel edges by tunnel name: (u, v, key, wkt) for every edge whose name includes it.

    Parsing the GraphML takes about a second; the console and the sensors worker both read
    the registry at start, so the answer is kept per file version (path, size, mtime).
    """
    if not path.is_file():
        raise RegistryError(f"{path}: no such file")
    stat = path.stat()
    return _parse_tunnel_edges(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _parse_tunnel_edges(path_text: str, _size: int, _mtime_ns: int) -> TunnelEdges:
    path = Path(path_text)
    found: dict[str, list[tuple[int, int, int, str]]] = {n: [] for n in GRAPH_TUNNELS.values()}
    keys: dict[str, str] = {}
    try:
        # the shipped OSM GraphML is our own data file, not untrusted input
        for _, elem in ElementTree.iterparse(path, events=("end",)):  # noqa: S314
            if elem.tag == f"{GRAPHML_NS}key" and elem.get("for") == "edge":
                keys[elem.get("id", "")] = elem.get("attr.name", "")
            elif elem.tag == f"{GRAPHML_NS}edge":
                data = {keys.get(d.get("key", ""), ""): d.text or "" for d in elem}
                if data.get("tunnel") == "yes":
                    for tunnel in found:
                        if tunnel in data.get("name", ""):
                            found[tunnel].append(
                                (
                                    int(elem.get("source", "0")),
                                    int(elem.get("target", "0")),
                                    int(data.get("key", "0") or 0),
                                    data.get("geometry", ""),
                                )
                            )
                elem.clear()
    except (ElementTree.ParseError, ValueError) as err:
        raise RegistryError(f"{path}: cannot read GraphML: {err}") from err
    return MappingProxyType({name: tuple(edges) for name, edges in found.items()})


def load_graph_tunnels(path: Path) -> list[Structure]:
    edges_by_name = _graphml_tunnel_edges(path)
    structures = []
    for sid, name in GRAPH_TUNNELS.items():
        edges = edges_by_name[name]
        lines = [wkt.removeprefix("LINESTRING ") for *_, wkt in edges if wkt]
        if not edges or not lines:
            raise RegistryError(f"{path}: no tunnel=yes edge named {name!r} with geometry")
        first = lines[0].strip("()").split(",")[0].split()
        structures.append(
            Structure(
                structure_id=sid,
                name=name,
                kind=StructureKind.TUNNEL,
                source=f"{GRAPH_FILE} (tunnel=yes, name contains {name!r})",
                lat=float(first[1]),
                lon=float(first[0]),
                geometry_wkt=f"MULTILINESTRING ({', '.join(lines)})",
                edges=tuple((u, v, k) for u, v, k, _ in edges),
                sensors=profiles.tunnel_sensors(sid),
                network_links=TUNNEL_NETWORK_LINKS.get(sid, ()),
                road_names=TUNNEL_ROADS.get(sid, (name,)),
            )
        )
    return structures


def han_bridges() -> list[Structure]:
    structures = []
    for han in HAN_BRIDGES:
        sid = han.structure_id
        levels = profiles.water_levels(
            watch=han.watch_m, warning=han.warning_m, critical=han.critical_m
        )
        structures.append(
            Structure(
                structure_id=sid,
                name=han.name,
                kind=StructureKind.BRIDGE,
                source="public facts (NOTES.md: Bridges and rivers)",
                lat=han.lat,
                lon=han.lon,
                geometry_wkt=han.geometry_wkt,
                network_links=han.network_links,
                road_names=han.road_names,
                sensors=(
                    profiles.water_gauge(sid, "wl1", levels),
                    profiles.water_gauge(sid, "wl2", levels),
                    profiles.anemometer(sid),
                    profiles.deck_accelerometer(sid),
                ),
                note=han.note + "; links of the Seoul node-link network (outside the central "
                "road graph)",
            )
        )
    return structures


def load_registry(seoul_data_dir: Path) -> SensorRegistry:
    """Every monitored structure: Han bridges, the 2018 bridges, graph bridges and tunnels."""
    return SensorRegistry(
        [
            *han_bridges(),
            *load_seoul_bridges(seoul_data_dir / BRIDGES_FILE),
            *load_graph_bridges(seoul_data_dir / BRIDGE_EDGES_FILE),
            *load_graph_tunnels(seoul_data_dir / GRAPH_FILE),
        ]
    )


def summary_json(registry: SensorRegistry) -> str:
    return json.dumps(registry.summary(), ensure_ascii=False, indent=2)
