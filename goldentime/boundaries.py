"""District boundaries: the gu, administrative dong (행정동) and legal dong (법정동) of a point.

Polygons stay in WGS84 (point-in-polygon needs no metric CRS); an STRtree finds candidates.
The dong sets are 2013 (administrative) and 2015 (legal): some dong have since merged.

Reference geography read from the shipped data, with no domain rules: it is on the ground floor
because several domains read it (firemap's safety map, places' gazetteer and geocoder,
dispatch's gu lookup) and domains do not import each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import shape

from goldentime.errors import DataError

ATTRIBUTION = "southkorea/seoul-maps (Apache-2.0), from KOSTAT 2013 census boundaries and JUSO 2015"


ENCODINGS = ("utf-8-sig", "cp949")


class BoundaryDataError(DataError):
    """A boundary file cannot be used; names the file and, where there is one, the feature
    (``line``, 1-based) and the property."""

    def __init__(
        self, reason: str, *, file: str | Path, line: int | None = None, field: str | None = None
    ) -> None:
        where = str(file)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {reason}")
        self.file = str(file)
        self.line = line
        self.field = field
        self.reason = reason


def _read_text(path: Path) -> str:
    """``path`` as UTF-8 (BOM allowed) or CP949, the encodings the shipped data comes in."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BoundaryDataError(f"cannot read: {err.strerror}", file=path) from err
    first_error: UnicodeDecodeError | None = None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as err:
            first_error = first_error or err
    assert first_error is not None
    raise BoundaryDataError(
        f"wrong encoding: neither UTF-8 nor CP949 (byte 0x{data[first_error.start]:02x} at "
        f"offset {first_error.start})",
        file=path,
        line=data[: first_error.start].count(b"\n") + 1,
    ) from first_error


@dataclass(frozen=True)
class BoundarySpec:
    name: str
    title: str
    filename: str
    name_property: str
    code_property: str


GU = BoundarySpec("gu", "Seoul gu (자치구)", "boundaries/seoul_gu.geojson", "SIG_KOR_NM", "SIG_CD")
ADMIN_DONG = BoundarySpec(
    "admin_dong",
    "Administrative dong (행정동, 2013)",
    "boundaries/seoul_admin_dong.geojson",
    "name",
    "code",
)
LEGAL_DONG = BoundarySpec(
    "legal_dong",
    "Legal dong (법정동, 2015)",
    "boundaries/seoul_legal_dong.geojson",
    "EMD_KOR_NM",
    "EMD_CD",
)
BOUNDARY_SPECS = (GU, ADMIN_DONG, LEGAL_DONG)


@dataclass(frozen=True)
class Area:
    name: str
    code: str


class BoundaryLayer:
    """Polygons of one boundary set with a point lookup."""

    def __init__(self, spec: BoundarySpec, path: Path) -> None:
        self.spec = spec
        self.path = path
        try:
            doc = json.loads(_read_text(path))
        except json.JSONDecodeError as err:
            raise BoundaryDataError(f"not JSON: {err}", file=path) from err
        areas: list[Area] = []
        geoms: list[Any] = []
        self.features: list[dict[str, Any]] = []
        for i, feat in enumerate(doc.get("features") or [], start=1):
            props = feat.get("properties") or {}
            name, code = props.get(spec.name_property), props.get(spec.code_property)
            if not name or code is None:
                raise BoundaryDataError(
                    f"feature has no {spec.name_property}/{spec.code_property}",
                    file=path,
                    line=i,
                    field=spec.name_property,
                )
            try:
                geom = shape(feat["geometry"])
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise BoundaryDataError(
                    f"bad geometry: {err}", file=path, line=i, field="geometry"
                ) from err
            areas.append(Area(str(name), str(code)))
            geoms.append(geom)
            self.features.append(feat)
        if not areas:
            raise BoundaryDataError("no features", file=path)
        self.areas = tuple(areas)
        self.geoms = np.array(geoms, dtype=object)
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)

    def __len__(self) -> int:
        return len(self.areas)

    def locate(self, lat: float, lon: float) -> Area | None:
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self.areas[int(min(hits))]


# Simplified polygons of different years do not share borders exactly: a dong is looked for
# among the dong of the gu found, containing the point or else the nearest within this margin.
DONG_MARGIN_DEG = 0.004


class Boundaries:
    """Gu, administrative dong and legal dong of a point, kept consistent with each other."""

    def __init__(self, data_dir: Path) -> None:
        self.layers = {
            spec.name: BoundaryLayer(spec, data_dir / spec.filename) for spec in BOUNDARY_SPECS
        }
        gu = self.layers[GU.name]
        self._gu_of: dict[str, list[str | None]] = {}
        for spec in (ADMIN_DONG, LEGAL_DONG):
            reps = shapely.point_on_surface(self.layers[spec.name].geoms)
            self._gu_of[spec.name] = [
                None if (a := gu.locate(float(p.y), float(p.x))) is None else a.name for p in reps
            ]

    def _dong(self, name: str, lat: float, lon: float, gu: str) -> Area | None:
        layer = self.layers[name]
        point = shapely.Point(lon, lat)
        candidates = layer.tree.query(point, predicate="dwithin", distance=DONG_MARGIN_DEG)
        hits = [int(i) for i in candidates if self._gu_of[name][int(i)] == gu]
        if not hits:
            return None
        dist = shapely.distance(layer.geoms[hits], point)
        area: Area = layer.areas[hits[int(np.argmin(dist))]]
        return area

    def locate(self, lat: float, lon: float) -> dict[str, Area | None]:
        gu = self.layers[GU.name].locate(lat, lon)
        found: dict[str, Area | None] = {GU.name: gu}
        for spec in (ADMIN_DONG, LEGAL_DONG):
            found[spec.name] = None if gu is None else self._dong(spec.name, lat, lon, gu.name)
        return found
