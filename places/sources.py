"""Read the shipped Seoul data into named points: what the gazetteer and reverse geocoder index.

Every reader returns :class:`Entry` rows (name, kind, WGS84 position, gu when the file says
it). The standard network is read lean (node names and link end points, road names decoded
once per distinct value) rather than as a routing graph: the gazetteer needs no topology.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from goldentime.nodelink import ROAD_TYPE_FLAGS, NodeLinkFilesError, decode_road_name, find_files
from places.errors import PlacesDataError
from places.names import clean_node_name

NETWORK_DIR = Path("roads") / "seoul_stdnodelink_2018"
SEOUL_PREFIX = "서울특별시 "


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: str
    lat: float
    lon: float
    gu: str | None = None


@dataclass(frozen=True, slots=True)
class NamedNode:
    name: str  # clean place name
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class RoadLink:
    name: str
    lat1: float
    lon1: float
    lat2: float
    lon2: float
    tunnel: bool


@dataclass(frozen=True)
class NetworkNames:
    nodes: list[NamedNode]
    links: list[RoadLink]


def _rows(path: Path, *, encoding: str = "utf-8-sig") -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding=encoding, newline="") as handle:
            yield from csv.DictReader(handle)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise PlacesDataError(f"cannot read {path}: {err}") from err


def _columns(path: Path, names: tuple[str, ...]) -> Iterator[list[str]]:
    """The ``names`` columns of every row of a large CSV (a plain reader: no dict per row)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            missing = [n for n in names if n not in header]
            if missing:
                raise PlacesDataError(f"{path}: missing columns {', '.join(missing)}")
            picks = [header.index(n) for n in names]
            width = max(picks) + 1
            for row in reader:
                if len(row) >= width:
                    yield [row[i] for i in picks]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise PlacesDataError(f"cannot read {path}: {err}") from err


def _float(value: str | None) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if number == number else None  # NaN is no number


def _in_seoul(lat: float | None, lon: float | None) -> bool:
    return lat is not None and lon is not None and 37.3 < lat < 37.8 and 126.6 < lon < 127.3


_decode = lru_cache(maxsize=None)(decode_road_name)


def clean_road_name(name: str | None) -> str | None:
    """A road's own name; connector links ("세종대로-종로1길_사이") name no road of their own."""
    if not name or "_" in name or "-" in name or "(" in name:
        return None
    return name


def read_network(data_dir: Path) -> NetworkNames:
    """Named nodes and the links of the standard node-link network shipped in ``data_dir``."""
    try:
        files = find_files(data_dir / NETWORK_DIR)
    except NodeLinkFilesError as err:
        raise PlacesDataError(f"standard network not found: {err}") from err
    positions: dict[str, tuple[float, float]] = {}
    nodes: list[NamedNode] = []
    for node_id, raw_name, lat_text, lon_text in _columns(
        files.nodes, ("Id", "NODE_NAME", "latitude", "longitude")
    ):
        lat, lon = _float(lat_text), _float(lon_text)
        if lat is None or lon is None:
            continue
        positions[node_id] = (lat, lon)
        cleaned = clean_node_name(raw_name)
        if cleaned is not None:
            nodes.append(NamedNode(cleaned[0], cleaned[1], lat, lon))
    links: list[RoadLink] = []
    for source, target, raw_name, road_type in _columns(
        files.links, ("Source", "Target", "ROAD_NAME", "ROAD_TYPE")
    ):
        ends = positions.get(source), positions.get(target)
        name = clean_road_name(_decode(raw_name))
        if ends[0] is None or ends[1] is None or name is None:
            continue
        tunnel = ROAD_TYPE_FLAGS.get(road_type.strip(), (None, None))[1]
        links.append(RoadLink(name, *ends[0], *ends[1], tunnel=tunnel is not None))
    if not nodes or not links:
        raise PlacesDataError(f"{data_dir / NETWORK_DIR}: no named nodes or links")
    return NetworkNames(nodes, links)


def _address(text: str) -> str:
    text = " ".join(text.split())
    return text[len(SEOUL_PREFIX) :] if text.startswith(SEOUL_PREFIX) else text


def _split_gu(address: str) -> tuple[str | None, str]:
    """ "강남구 개포로 31길 48" -> ("강남구", "개포로 31길 48")."""
    head, _, rest = address.partition(" ")
    return (head, rest) if head.endswith("구") and rest else (None, address)


def read_units(data_dir: Path) -> list[Entry]:
    """Fire stations (소방서) and safety centres / rescue units (119안전센터, 구조대)."""
    out = []
    for row in _rows(data_dir / "units" / "fire_units.csv"):
        lat, lon = _float(row.get("lat")), _float(row.get("lon"))
        if lat is None or lon is None or not row.get("name"):
            continue
        kind = "fire_station" if row.get("type") == "소방서" else "safety_center"
        out.append(Entry(row["name"].strip(), kind, lat, lon))
    return out


def read_emergency_rooms(data_dir: Path) -> list[Entry]:
    """Emergency rooms: name and position only (the description columns are garbled)."""
    out = []
    for row in _rows(data_dir / "hospitals" / "emergency_rooms.csv"):
        lat, lon = _float(row.get("병원위도")), _float(row.get("병원경도"))
        if lat is None or lon is None or not row.get("기관명"):
            continue
        gu, _ = _split_gu(_address(row.get("주소") or ""))
        out.append(Entry(row["기관명"].strip(), "emergency_room", lat, lon, gu))
    return out


def read_bridges(data_dir: Path) -> list[Entry]:
    """Bridges, placed at the middle of their start and end points."""
    out = []
    for row in _rows(data_dir / "bridges" / "seoul_bridges_2018.csv"):
        ends = [_float(row.get(c)) for c in ("교량시작점위도", "교량시작점경도")]
        tail = [_float(row.get(c)) for c in ("교량종료점위도", "교량종료점경도")]
        if ends[0] is None or ends[1] is None or not row.get("교량명"):
            continue
        lat, lon = ends[0], ends[1]
        if tail[0] is not None and tail[1] is not None and _in_seoul(tail[0], tail[1]):
            lat, lon = (lat + tail[0]) / 2, (lon + tail[1]) / 2
        gu = (row.get("시군구명") or "").strip() or None
        out.append(Entry(row["교량명"].strip(), "bridge", lat, lon, gu))
    return out


def read_cctv(data_dir: Path) -> list[Entry]:
    """CCTV sites by their address (road address when given, else the lot address)."""
    out = []
    for row in _rows(data_dir / "cctv" / "cctv_gangnam.csv"):
        lat, lon = _float(row.get("latitude")), _float(row.get("longitude"))
        address = _address(row.get("road_address") or row.get("jibun_address") or "")
        if lat is None or lon is None or not address:
            continue
        gu, rest = _split_gu(address)
        out.append(Entry(rest, "cctv", lat, lon, gu))
    return out


def _number(value: str | None) -> str:
    number = _float(value)
    return str(int(number)) if number else ""


def read_fire_water(data_dir: Path) -> list[Entry]:
    """Songpa's hydrants and fire-water points, by road address ("올림픽로 300")."""
    out = []
    for row in _rows(data_dir / "firemap" / "songpa_fire_water.csv"):
        lat, lon = _float(row.get("경위도Y")), _float(row.get("경위도X"))
        road = (row.get("도로명") or "").strip()
        if lat is None or lon is None or not road:
            continue
        main, sub = _number(row.get("건물본번")), _number(row.get("건물부번"))
        number = f"{main}-{sub}" if main and sub else main
        out.append(Entry(f"{road} {number}".strip(), "hydrant", lat, lon, "송파구"))
    return out


def read_fire_devices(data_dir: Path) -> list[Entry]:
    """Songpa's emergency fire-hose boxes by address (the city-wide file has no address)."""
    out = []
    for row in _rows(data_dir / "firemap" / "songpa_emergency_devices.csv"):
        lat, lon = _float(row.get("경위도좌표Y")), _float(row.get("경위도좌표X"))
        address = _address(row.get("주소") or "")
        if lat is None or lon is None or not address:
            continue
        gu, rest = _split_gu(address)
        out.append(Entry(rest, "fire_device", lat, lon, gu))
    return out
