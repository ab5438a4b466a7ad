"""Alert areas: Seoul gu/dong by name (Korean or romanised), polygons and circles as shapes.

The gazetteer reads the shipped boundaries (``data/seoul/boundaries``): 25 gu and the
administrative dong. Names resolve in Korean (``종로구``, ``종로``) or romanised
(``Jongno-gu``, ``Jongno``), case-insensitively; a dong name used in more than one gu must be
qualified (``강남구 신사동`` or ``Gangnam-gu/Sinsa-dong``). Each place becomes a CAP
:class:`~alerts.cap.Area` with its polygon(s) and geocode, and back into one shapely geometry
for geo-targeting, so the people warned are exactly those inside the area as published.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.geometry import shape

from alerts.cap import Area, Circle, NamedValue, Polygon
from alerts.errors import AreaError
from goldentime.geo import span_degrees

GU_GEOCODE = "KR-SIG_CD"
DONG_GEOCODE = "KR-KOSTAT-ADM_CD"
SIMPLIFY_DEGREES = 0.0002  # about 20 m: keeps CAP polygons small, area unchanged to the street


@dataclass(frozen=True, slots=True)
class Place:
    """One named administrative area."""

    kind: str  # "gu" or "dong"
    name_ko: str
    name_en: str
    code: str
    gu_ko: str
    geometry: Any

    @property
    def label(self) -> str:
        return self.name_ko if self.kind == "gu" else f"{self.gu_ko} {self.name_ko}"


def _keys(name: str) -> set[str]:
    """Lookup keys of a name: lower case, without spaces/hyphens, with and without suffix."""
    base = re.sub(r"[\s\-_/]", "", name.lower())
    keys = {base}
    for suffix in ("gu", "구", "dong", "동"):
        if base.endswith(suffix) and len(base) > len(suffix) + 1:
            keys.add(base[: -len(suffix)])
    return keys


class Gazetteer:
    """Seoul gu and administrative dong, looked up by name or code."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places = list(places)
        self._by_key: dict[str, list[Place]] = {}
        self._by_code: dict[str, Place] = {}
        for place in self.places:
            self._by_code[place.code] = place
            names = [place.name_ko, place.name_en]
            if place.kind == "dong":
                gu = self._gu_en(place.gu_ko)
                names += [f"{place.gu_ko}{place.name_ko}", f"{gu}{place.name_en}"]
            for name in names:
                for key in _keys(name):
                    bucket = self._by_key.setdefault(key, [])
                    if place not in bucket:
                        bucket.append(place)

    def _gu_en(self, gu_ko: str) -> str:
        for place in self.places:
            if place.kind == "gu" and place.name_ko == gu_ko:
                return place.name_en
        return gu_ko

    @classmethod
    def from_dir(cls, boundaries_dir: Path) -> Gazetteer:
        """Load ``seoul_gu.geojson`` and ``seoul_admin_dong.geojson`` from ``boundaries_dir``."""
        gu_path = boundaries_dir / "seoul_gu.geojson"
        dong_path = boundaries_dir / "seoul_admin_dong.geojson"
        try:
            gu_features = json.loads(gu_path.read_text(encoding="utf-8"))["features"]
            dong_features = json.loads(dong_path.read_text(encoding="utf-8"))["features"]
        except (OSError, ValueError, KeyError) as err:
            raise AreaError(f"cannot read Seoul boundaries in {boundaries_dir}: {err}") from err
        gus = [
            Place(
                kind="gu",
                name_ko=f["properties"]["SIG_KOR_NM"],
                name_en=f["properties"]["SIG_ENG_NM"],
                code=f["properties"]["SIG_CD"],
                gu_ko=f["properties"]["SIG_KOR_NM"],
                geometry=shape(f["geometry"]).buffer(0),
            )
            for f in gu_features
        ]
        dongs = []
        for f in dong_features:
            geometry = shape(f["geometry"]).buffer(0)
            point = geometry.representative_point()
            home = next((g for g in gus if g.geometry.contains(point)), None)
            if home is None:  # dong drawn slightly outside the gu outline: take the largest overlap
                home = max(gus, key=lambda g: g.geometry.intersection(geometry).area)
            dongs.append(
                Place(
                    kind="dong",
                    name_ko=f["properties"]["name"],
                    name_en=f["properties"]["name_eng"],
                    code=f["properties"]["code"],
                    gu_ko=home.name_ko if home else "",
                    geometry=geometry,
                )
            )
        return cls([*gus, *dongs])

    def resolve(self, name: str, *, kind: str | None = None) -> Place:
        """The place called ``name`` (gu or dong); AreaError if unknown or ambiguous."""
        found: list[Place] = []
        for key in _keys(name.strip()):
            for place in self._by_key.get(key, []):
                if (kind is None or place.kind == kind) and place not in found:
                    found.append(place)
        if not found:
            what = kind or "gu or dong"
            raise AreaError(f"unknown {what} {name!r} in Seoul (try e.g. '종로구' or 'Jongno-gu')")
        gus = [p for p in found if p.kind == "gu"]
        if len(gus) == 1:
            return gus[0]
        if len(found) > 1:
            choices = ", ".join(sorted(p.label for p in found))
            raise AreaError(f"area name {name!r} is ambiguous: {choices}; qualify it with the gu")
        return found[0]

    def by_code(self, code: str) -> Place | None:
        return self._by_code.get(code)

    def gu_names(self) -> list[str]:
        return sorted(p.name_ko for p in self.places if p.kind == "gu")


@lru_cache(maxsize=4)
def load_gazetteer(boundaries_dir: Path | None = None) -> Gazetteer:
    """The gazetteer of the shipped Seoul boundaries (cached)."""
    if boundaries_dir is None:
        from goldentime.settings import load_settings

        boundaries_dir = load_settings().data.seoul_dir / "boundaries"
    return Gazetteer.from_dir(boundaries_dir)


def _rings(geometry: Any) -> list[Polygon]:
    simplified = geometry.simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    parts = list(getattr(simplified, "geoms", [simplified]))
    rings = []
    for part in parts:
        if part.is_empty or not isinstance(part, ShapelyPolygon):
            continue
        coords = [(round(lat, 6), round(lon, 6)) for lon, lat in part.exterior.coords]
        rings.append(Polygon(points=tuple(coords)))
    return rings


def place_area(place: Place) -> Area:
    """A CAP area for a gu or dong: its outline and its administrative code."""
    geocode = NamedValue(name=GU_GEOCODE if place.kind == "gu" else DONG_GEOCODE, value=place.code)
    return Area(area_desc=place.label, polygons=tuple(_rings(place.geometry)), geocodes=(geocode,))


def polygon_area(desc: str, points: list[tuple[float, float]]) -> Area:
    """A CAP area from (lat, lon) points; closes the ring if needed."""
    if len(points) >= 3 and points[0] != points[-1]:
        points = [*points, points[0]]
    try:
        area = Area(area_desc=desc, polygons=(Polygon(points=tuple(points)),))
    except ValueError as err:
        raise AreaError(f"polygon area {desc!r}: {err}") from err
    if not area_geometry(area).is_valid:
        raise AreaError(f"polygon area {desc!r} crosses itself")
    return area


def circle_area(desc: str, *, lat: float, lon: float, radius_km: float) -> Area:
    """A CAP area for a circle of ``radius_km`` around (lat, lon)."""
    if not 0 < radius_km <= 50:
        raise AreaError(f"circle area {desc!r}: radius {radius_km} km must be in (0, 50]")
    try:
        return Area(area_desc=desc, circles=(Circle(lat=lat, lon=lon, radius_km=radius_km),))
    except ValueError as err:
        raise AreaError(f"circle area {desc!r}: {err}") from err


def circle_geometry(circle: Circle, *, segments: int = 64) -> Any:
    """The circle as a lon/lat polygon (local equirectangular approximation, < 0.1 % at 50 km)."""
    angles = [2 * math.pi * i / segments for i in range(segments)]
    dlat, dlon = span_degrees(circle.lat, circle.radius_km * 1000.0)
    ring = [(circle.lon + dlon * math.cos(a), circle.lat + dlat * math.sin(a)) for a in angles]
    return ShapelyPolygon(ring)


def area_geometry(area: Area, *, gazetteer: Gazetteer | None = None) -> Any:
    """One lon/lat shapely geometry for a CAP area (polygons, circles, or known geocodes)."""
    parts: list[Any] = [
        ShapelyPolygon([(lon, lat) for lat, lon in p.points]) for p in area.polygons
    ]
    parts += [circle_geometry(c) for c in area.circles]
    if not parts and gazetteer is not None:
        for geocode in area.geocodes:
            place = gazetteer.by_code(geocode.value)
            if place is not None:
                parts.append(place.geometry)
    if not parts:
        raise AreaError(f"area {area.area_desc!r} has no polygon, circle or known geocode")
    return shapely.union_all(parts)


def areas_geometry(areas: Iterable[Area], *, gazetteer: Gazetteer | None = None) -> Any:
    """The union of several CAP areas."""
    return shapely.union_all([area_geometry(a, gazetteer=gazetteer) for a in areas])
