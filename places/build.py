"""Build the gazetteer and the reverse geocoder from the shipped data, once per process."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from goldentime.boundaries import Boundaries, BoundaryDataError
from places.errors import PlacesDataError
from places.gazetteer import Gazetteer, Place, group_points, metres
from places.hangul import normalize
from places.reverse import ReverseGeocoder
from places.sources import (
    Entry,
    NetworkNames,
    read_bridges,
    read_cctv,
    read_emergency_rooms,
    read_fire_devices,
    read_fire_water,
    read_network,
    read_units,
)

STATION_SPREAD_M = 700.0  # the ramps and exits of one station or tunnel lie within this
NAME_SPREAD_M = 300.0  # other nodes of one name: a landmark, an intersection
ADDRESS_SPREAD_M = 150.0
AREA_SPREAD_M = 2500.0  # a legal and an administrative dong of one name
# A network node named like a station, hospital or bridge of an authoritative file, this
# near it, is that place: the file's record stays, the node's duplicate goes.
SAME_PLACE_M = 500.0
NEAREST_GU_DEG = 0.005  # ~450 m: a bridge end on the river still belongs to its gu
TUNNEL_PORTAL_M = 600.0  # a tunnel link this near a named portal is that tunnel
AUTHORITATIVE = frozenset({"fire_station", "safety_center", "emergency_room", "bridge"})


@dataclass(frozen=True)
class Atlas:
    """What :func:`places.atlas` builds: the gazetteer, the geocoder and how long it took."""

    gazetteer: Gazetteer
    geocoder: ReverseGeocoder
    build_ms: float


def build_atlas(data_dir: Path) -> Atlas:
    """Read every source in ``data_dir`` and index it (PlacesDataError when one is missing)."""
    started = time.perf_counter()
    network = read_network(data_dir)
    try:
        boundaries = Boundaries(data_dir)
    except (BoundaryDataError, OSError, ValueError) as err:
        raise PlacesDataError(f"cannot read the boundaries in {data_dir}: {err}") from err
    areas, english = _areas(boundaries)
    places = _network_places(network) + areas
    for entries, spread in (
        (read_units(data_dir), 50.0),
        (read_emergency_rooms(data_dir), 50.0),
        (read_bridges(data_dir), 500.0),
        (read_cctv(data_dir), ADDRESS_SPREAD_M),
        (read_fire_water(data_dir), ADDRESS_SPREAD_M),
        (read_fire_devices(data_dir), ADDRESS_SPREAD_M),
    ):
        places += group_points(entries, within_m=spread)
    places = _with_gu(_drop_duplicates(places), boundaries)
    gazetteer = Gazetteer(places, extra_keys=english)
    geocoder = ReverseGeocoder(nodes=network.nodes, links=network.links, boundaries=boundaries)
    return Atlas(gazetteer, geocoder, (time.perf_counter() - started) * 1000.0)


def _network_places(network: NetworkNames) -> list[Place]:
    wide = [Entry(n.name, n.kind, n.lat, n.lon) for n in network.nodes if n.kind in _WIDE]
    near = [Entry(n.name, n.kind, n.lat, n.lon) for n in network.nodes if n.kind not in _WIDE]
    out = group_points(wide, within_m=STATION_SPREAD_M)
    out += group_points(near, within_m=NAME_SPREAD_M)
    out += _roads(network)
    out += _unnamed_tunnels(network, [p for p in out if p.kind == "tunnel"])
    return out


def _unnamed_tunnels(network: NetworkNames, named: list[Place]) -> list[Place]:
    """Tunnel and underpass links with no named portal near: "<road> 지하 구간"."""
    entries = []
    for link in network.links:
        if not link.tunnel:
            continue
        lat, lon = (link.lat1 + link.lat2) / 2, (link.lon1 + link.lon2) / 2
        if not any(metres(lat, lon, t.lat, t.lon) <= TUNNEL_PORTAL_M for t in named):
            entries.append(Entry(f"{link.name} 지하 구간", "tunnel", lat, lon))
    return group_points(entries, within_m=STATION_SPREAD_M)


_WIDE = frozenset({"station", "tunnel"})


def _roads(network: NetworkNames) -> list[Place]:
    """One place per road name, at the middle of its link nearest the road's centroid."""
    names = sorted({link.name for link in network.links})
    index = {name: i for i, name in enumerate(names)}
    road = np.array([index[k.name] for k in network.links])
    lat = np.array([(k.lat1 + k.lat2) / 2 for k in network.links])
    lon = np.array([(k.lon1 + k.lon2) / 2 for k in network.links])
    count = np.bincount(road)
    centre_lat = np.bincount(road, lat) / count
    centre_lon = np.bincount(road, lon) / count
    away = (lat - centre_lat[road]) ** 2 + ((lon - centre_lon[road]) * 0.79) ** 2
    order = np.lexsort((away, road))  # by road, nearest its centre first
    first = order[np.searchsorted(road[order], np.arange(len(names)))]
    return [
        Place(names[r], "road", float(lat[i]), float(lon[i]), None)
        for r, i in enumerate(first.tolist())
    ]


ENGLISH_NAMES = {"gu": "SIG_ENG_NM", "legal_dong": "EMD_ENG_NM", "admin_dong": "name_eng"}


def _areas(boundaries: Any) -> tuple[list[Place], dict[tuple[str, str], list[str]]]:
    """The 25 gu and the legal and administrative dong, at a point inside each, and their
    English names ("Gangnam-gu", also typed "Gangnam") as extra lookup keys."""
    entries: list[Entry] = []
    english: dict[tuple[str, str], list[str]] = defaultdict(list)
    for layer_name, kind in (("gu", "gu"), ("legal_dong", "dong"), ("admin_dong", "dong")):
        layer = boundaries.layers[layer_name]
        points = shapely.point_on_surface(layer.geoms)
        for area, point, feature in zip(layer.areas, points, layer.features, strict=True):
            gu = area.name if kind == "gu" else None
            entries.append(Entry(area.name, kind, float(point.y), float(point.x), gu))
            name_en = str((feature.get("properties") or {}).get(ENGLISH_NAMES[layer_name]) or "")
            if name_en:
                english[(area.name, kind)] += [name_en, name_en.rsplit("-", 1)[0]]
    return group_points(entries, within_m=AREA_SPREAD_M), dict(english)


def _drop_duplicates(places: list[Place]) -> list[Place]:
    """Network nodes that repeat an authoritative record nearby ("강남소방서" node)."""
    records: dict[str, list[Place]] = defaultdict(list)
    for place in places:
        if place.kind in AUTHORITATIVE:
            records[normalize(place.name)].append(place)
    return [
        p
        for p in places
        if p.kind in AUTHORITATIVE
        or p.kind in ("gu", "dong", "road", "cctv", "hydrant", "fire_device")
        or not any(
            metres(p.lat, p.lon, r.lat, r.lon) <= SAME_PLACE_M
            for r in records.get(normalize(p.name), ())
        )
    ]


def _with_gu(places: list[Place], boundaries: Any) -> list[Place]:
    """Fill the gu of every place that does not state one, in one vectorised lookup."""
    missing = [i for i, p in enumerate(places) if p.gu is None]
    layer = boundaries.layers["gu"]
    points = shapely.points([places[i].lon for i in missing], [places[i].lat for i in missing])
    found: dict[int, str] = {}
    hit_points, hit_areas = layer.tree.query(points, predicate="intersects")
    for p, a in zip(hit_points.tolist(), hit_areas.tolist(), strict=True):
        found.setdefault(p, layer.areas[a].name)
    # on a river or just past a simplified border: the nearest gu within a few hundred metres
    outside = [j for j in range(len(missing)) if j not in found]
    if outside:
        near_points, near_areas = layer.tree.query_nearest(
            points[outside], max_distance=NEAREST_GU_DEG, all_matches=False
        )
        for p, a in zip(near_points.tolist(), near_areas.tolist(), strict=True):
            found.setdefault(outside[p], layer.areas[a].name)
    out = list(places)
    for j, i in enumerate(missing):
        if j in found:
            out[i] = dataclasses.replace(places[i], gu=found[j])
    return out
