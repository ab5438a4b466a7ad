"""Read a raw OpenStreetMap extract (.osm XML, .osm.pbf) as a road graph, with pyosmium.

So that a control centre can load its own city from a Geofabrik/BBBike extract. pyosmium (the
maintained Python binding of libosmium) reads both formats and resolves node locations; this
module only selects and types the roads:

- **drivable ways**: the OSMnx "drive" network: ``highway`` in `DRIVABLE` (motorway ... living
  street, their ``*_link``s, ``road``), not ``area=yes``, not ``access``/``motor_vehicle``/
  ``motorcar`` = no or private (emergency vehicles use private roads too, but so does OSMnx's
  graph; a centre that wants them can widen `DRIVABLE`).
- **node-simplified**: a way is split only at *junctions* (nodes shared by two drivable ways or
  used twice by one) and at its ends; the points in between become the edge's ``geometry``. The
  graph is therefore the same shape as an OSMnx simplified GraphML (one edge per street stretch
  between intersections) and routes over it agree with routes over the GraphML.
- **oneway**: ``oneway`` = yes/true/1 (or ``junction`` = roundabout/circular, or a motorway
  without ``oneway=no``) gives the way's direction only; ``oneway=-1``/``reverse`` the opposite
  direction only; otherwise both directions.
- **attributes** (as `routing.graphml`): ``length`` (m, geodesic along the points), ``highway``,
  ``lanes``, ``name``/``names``, ``oneway``, ``bridge``, ``tunnel``, ``osmid`` (the way id), and
  from the tags ``maxspeed_kmh`` (``maxspeed``: "50", "50 km/h", "30 mph"; zone words such as
  "KR:urban" are not numbers and are ignored), ``max_height_m`` (``maxheight``: "4.2", "4.2 m",
  "13'6\""), ``max_weight_t`` (``maxweight``: "10", "10 t", "5000 kg").
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmium
from pyproj import Geod
from shapely.geometry import LineString

from routing.errors import GraphLoadError

DRIVABLE: frozenset[str] = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
        "living_street", "road", "motorway_link", "trunk_link", "primary_link",
        "secondary_link", "tertiary_link",
    }
)  # fmt: skip
_NO_ACCESS = frozenset({"no", "private"})
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_FEET_INCHES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*'\s*(?:(\d+(?:\.\d+)?)\s*\"?)?\s*$")
_GEOD = Geod(ellps="WGS84")
SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".osm.xml")


def is_osm_file(path: Path) -> bool:
    """True when ``path`` names an OpenStreetMap extract by its suffix."""
    name = path.name.lower()
    return any(name.endswith(s) for s in SUFFIXES)


def parse_maxspeed(text: str | None) -> float | None:
    """``maxspeed`` tag -> km/h (mph converted); None for zone words, "none", "signals"."""
    if not text:
        return None
    value = text.split(";")[0].strip().lower()
    match = _NUMBER.match(value)
    if match is None:
        return None
    number = float(match.group())
    speed = number * 1.609344 if "mph" in value else number
    return speed if 0 < speed <= 200 else None


def parse_maxheight(text: str | None) -> float | None:
    """``maxheight`` tag -> metres (feet'inches" converted); None for "default", "none"."""
    if not text:
        return None
    value = text.strip().lower()
    feet = _FEET_INCHES.match(value)
    if feet is not None:
        return float(feet.group(1)) * 0.3048 + float(feet.group(2) or 0) * 0.0254
    match = _NUMBER.match(value)
    if match is None:
        return None
    number = float(match.group())
    if "ft" in value:
        number *= 0.3048
    return number if 0 < number < 20 else None


def parse_maxweight(text: str | None) -> float | None:
    """``maxweight`` tag -> tonnes ("kg" and "lbs" converted); None when not a number."""
    if not text:
        return None
    value = text.strip().lower()
    match = _NUMBER.match(value)
    if match is None:
        return None
    number = float(match.group())
    if "kg" in value:
        number /= 1000.0
    elif "lb" in value:
        number *= 0.000453592
    return number if 0 < number < 200 else None


@dataclass
class _Way:
    way_id: int
    refs: list[int]
    lons: list[float]
    lats: list[float]
    tags: dict[str, str]


def _drivable(tags: dict[str, str]) -> bool:
    if tags.get("highway") not in DRIVABLE or tags.get("area") == "yes":
        return False
    return not any(tags.get(k) in _NO_ACCESS for k in ("access", "motor_vehicle", "motorcar"))


def _read_ways(path: Path) -> list[_Way]:
    ways: list[_Way] = []
    try:
        entities = osmium.osm.NODE | osmium.osm.WAY  # nodes: for the location cache only
        processor = osmium.FileProcessor(str(path), entities).with_locations()
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = {t.k: t.v for t in obj.tags}
            if not _drivable(tags):
                continue
            refs, lons, lats = [], [], []
            for node in obj.nodes:
                if not node.location.valid():
                    continue  # a node outside the extract: the way is cut there
                refs.append(int(node.ref))
                lons.append(float(node.lon))
                lats.append(float(node.lat))
            if len(refs) >= 2:
                ways.append(_Way(int(obj.id), refs, lons, lats, tags))
    except (RuntimeError, OSError, ValueError) as err:
        raise GraphLoadError(f"cannot read OpenStreetMap extract {path}: {err}") from err
    return ways


def _direction(tags: dict[str, str]) -> int:
    """+1 forward only, -1 backward only, 0 both ways."""
    oneway = tags.get("oneway", "").lower()
    if oneway in ("yes", "true", "1"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def _flag(value: str | None) -> str | None:
    return None if value in (None, "", "no") else value


def _attrs(way: _Way, lons: list[float], lats: list[float], *, oneway: bool) -> dict[str, Any]:
    tags = way.tags
    names = [n.strip() for n in tags.get("name", "").split(";") if n.strip()]
    lanes = _NUMBER.match(tags.get("lanes", ""))
    attrs: dict[str, Any] = {
        "length": float(_GEOD.line_length(lons, lats)),
        "highway": tags["highway"],
        "lanes": int(float(lanes.group())) if lanes else None,
        "width": None,
        "name": names[0] if names else None,
        "names": names,
        "oneway": oneway,
        "bridge": _flag(tags.get("bridge")),
        "tunnel": _flag(tags.get("tunnel")),
        "osmid": way.way_id,
        "maxspeed_kmh": parse_maxspeed(tags.get("maxspeed")),
        "max_height_m": parse_maxheight(tags.get("maxheight")),
        "max_weight_t": parse_maxweight(tags.get("maxweight")),
    }
    if len(lons) > 2:
        attrs["geometry"] = LineString(np.column_stack([lons, lats]))
    return attrs


def read_osm(path: Path) -> nx.MultiDiGraph:
    """Read an .osm / .osm.pbf extract into a typed, node-simplified MultiDiGraph."""
    if not path.is_file():
        raise GraphLoadError(f"OpenStreetMap extract not found: {path}")
    ways = _read_ways(path)
    if not ways:
        raise GraphLoadError(f"OpenStreetMap extract {path}: no drivable highway ways")
    uses: Counter[int] = Counter(ref for way in ways for ref in way.refs)
    graph = nx.MultiDiGraph()
    graph.graph.update({"source": str(path), "format": "osm"})
    for way in ways:
        direction = _direction(way.tags)
        cuts = [0] + [i for i in range(1, len(way.refs) - 1) if uses[way.refs[i]] > 1]
        cuts.append(len(way.refs) - 1)
        for a, b in itertools.pairwise(cuts):
            if way.refs[a] == way.refs[b] and b - a < 2:
                continue
            for i in (a, b):
                graph.add_node(way.refs[i], x=way.lons[i], y=way.lats[i])
            lons, lats = way.lons[a : b + 1], way.lats[a : b + 1]
            u, v = way.refs[a], way.refs[b]
            if direction >= 0:
                graph.add_edge(u, v, **_attrs(way, lons, lats, oneway=direction != 0))
            if direction <= 0:
                graph.add_edge(v, u, **_attrs(way, lons[::-1], lats[::-1], oneway=direction != 0))
    graph.graph["ways"] = len(ways)
    return graph
