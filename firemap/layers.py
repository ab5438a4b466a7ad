"""Generic, validating loader for point and line layers in CSV or GeoJSON files.

A :class:`LayerSpec` says which columns hold the id, the coordinates (and in which CRS), and
how a row becomes the feature's properties. :func:`load_layer` reads a file against a spec:

- the encoding is detected (UTF-8 or CP949),
- missing columns fail at once, naming the columns the header does have,
- each row is parsed; a bad row raises :class:`FiremapDataError` naming file, line and field,
  or, in lenient mode, becomes a :class:`Reject` while the rest loads,
- projected coordinates go to WGS84 via pyproj and must land inside Seoul; when the row also
  carries its own lat/lon (most Korean files do) the two must agree within 50 m, which catches
  a wrong CRS that would still land inside the city.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod

from firemap.errors import FiremapDataError, Reject
from firemap.shapefiles import shapefile_table
from firemap.sources import (
    WGS84,
    CsvTable,
    RowError,
    decode_file,
    inside_seoul,
    number,
    read_csv,
    resolve_crs,
    seoul_reason,
    transform,
)

CROSS_CHECK_TOLERANCE_M = 50.0
GEOJSON_X = "__geometry_x"
GEOJSON_Y = "__geometry_y"

PropsFn = Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class PointColumns:
    """Coordinates of a point layer: ``x``/``y`` in ``crs``, optionally checked against the
    row's own WGS84 ``check_lon``/``check_lat`` columns."""

    x: str
    y: str
    crs: str = WGS84
    check_lon: str | None = None
    check_lat: str | None = None


@dataclass(frozen=True)
class LineColumns:
    """A two-point line in WGS84 (bridges: start and end of the deck)."""

    start_lat: str
    start_lon: str
    end_lat: str
    end_lon: str


@dataclass(frozen=True)
class LayerSpec:
    name: str
    title: str
    filename: str
    attribution: str
    licence: str
    id_column: str | None
    props: PropsFn
    point: PointColumns | None = None
    line: LineColumns | None = None
    columns: tuple[str, ...] = ()

    def required_columns(self) -> tuple[str, ...]:
        cols: list[str] = [] if self.id_column is None else [self.id_column]
        if self.point is not None:
            cols += [self.point.x, self.point.y]
        if self.line is not None:
            ln = self.line
            cols += [ln.start_lat, ln.start_lon, ln.end_lat, ln.end_lon]
        cols += self.columns
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True, slots=True)
class Feature:
    """One map object in WGS84. ``line`` holds (lon, lat) vertices for line layers."""

    layer: str
    id: str
    lat: float
    lon: float
    props: Mapping[str, Any]
    line: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class LoadedLayer:
    spec: LayerSpec
    path: Path
    encoding: str
    crs: str
    features: tuple[Feature, ...]
    rejects: tuple[Reject, ...] = field(default=())


_GEOD = Geod(ellps="WGS84")


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _geojson_table(path: Path) -> tuple[CsvTable, str | None]:
    """A GeoJSON FeatureCollection of points as a table: properties + geometry x/y columns."""
    decoded = decode_file(path)
    try:
        doc = json.loads(decoded.text)
    except json.JSONDecodeError as err:
        raise FiremapDataError(f"not JSON: {err.msg}", file=path, line=err.lineno) from err
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise FiremapDataError("not a GeoJSON FeatureCollection", file=path)
    crs_name = None
    crs = doc.get("crs")
    if isinstance(crs, dict):
        crs_name = str((crs.get("properties") or {}).get("name", ""))
    header: dict[str, None] = {}
    rows: list[tuple[int, Mapping[str, str]]] = []
    for number_, feat in enumerate(doc.get("features") or [], start=1):
        props = {k: "" if v is None else str(v) for k, v in (feat.get("properties") or {}).items()}
        geom = feat.get("geometry") or {}
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            props[GEOJSON_X], props[GEOJSON_Y] = str(coords[0]), str(coords[1])
        header.update(dict.fromkeys(props))
        rows.append((number_, props))
    table = CsvTable(path=path, encoding=decoded.encoding, header=tuple(header), rows=tuple(rows))
    return table, crs_name


def _layer_table(
    spec: LayerSpec, path: Path, *, crs: str | None
) -> tuple[CsvTable, PointColumns | None]:
    """The rows of ``path`` (CSV, GeoJSON or shapefile) and where their points are."""
    point = spec.point
    suffix = path.suffix.lower()
    if suffix in {".geojson", ".json", ".shp"}:
        if point is None:
            raise FiremapDataError(
                f"layer {spec.name} cannot be read from {suffix} points", file=path
            )
        table, file_crs = shapefile_table(path) if suffix == ".shp" else _geojson_table(path)
        point = PointColumns(
            x=GEOJSON_X,
            y=GEOJSON_Y,
            crs=crs or file_crs or WGS84,
            check_lon=point.check_lon if point.check_lon in table.header else None,
            check_lat=point.check_lat if point.check_lat in table.header else None,
        )
        required = [c for c in spec.required_columns() if c not in (spec.point.x, spec.point.y)]  # type: ignore[union-attr]
    else:
        table = read_csv(path)
        if point is not None and crs is not None:
            point = PointColumns(point.x, point.y, crs, point.check_lon, point.check_lat)
        required = list(spec.required_columns())
    table.require_columns(required)
    return table, point


def load_layer(
    spec: LayerSpec, path: Path, *, lenient: bool = False, crs: str | None = None
) -> LoadedLayer:
    """Load ``path`` as layer ``spec``. For GeoJSON the row number is the feature's index."""
    table, point = _layer_table(spec, path, crs=crs)
    source_crs = resolve_crs(point.crs, file=path) if point is not None else WGS84

    rejects: list[Reject] = []

    def fail(line: int, field_: str | None, reason: str) -> None:
        if not lenient:
            raise FiremapDataError(reason, file=path, line=line, field=field_)
        rejects.append(Reject(file=str(path), line=line, field=field_, reason=reason))

    parsed: list[tuple[int, str, dict[str, Any], float, float, tuple[float, ...] | None]] = []
    for line, row in table.rows:
        try:
            ident = (row.get(spec.id_column) or "").strip() if spec.id_column else ""
            if spec.id_column and not ident:
                raise RowError(spec.id_column, "empty id")
            props = spec.props(row)
            extra: tuple[float, ...] | None = None
            if point is not None:
                x, y = number(row, point.x), number(row, point.y)
                if point.check_lat and point.check_lon:
                    extra = (number(row, point.check_lat), number(row, point.check_lon))  # type: ignore[assignment]
            else:
                ln = spec.line
                assert ln is not None
                coords = [
                    number(row, c) for c in (ln.start_lat, ln.start_lon, ln.end_lat, ln.end_lon)
                ]
                x, y = coords[1], coords[0]
                extra = tuple(c for c in coords if c is not None)
        except RowError as err:
            fail(line, err.field, err.reason)
            continue
        assert x is not None and y is not None
        parsed.append((line, ident or f"{spec.name}-{line}", props, x, y, extra))

    xs = np.array([p[3] for p in parsed], dtype=np.float64)
    ys = np.array([p[4] for p in parsed], dtype=np.float64)
    lons, lats = transform(source_crs, WGS84, xs, ys)
    features: list[Feature] = []
    seen: set[str] = set()
    for (line, ident, props, _, _, extra), lon, lat in zip(parsed, lons, lats, strict=True):
        lat_f, lon_f = float(lat), float(lon)
        y_field = point.y if point is not None else spec.line.start_lat  # type: ignore[union-attr]
        if not (math.isfinite(lat_f) and math.isfinite(lon_f)) or not inside_seoul(lat_f, lon_f):
            fail(line, y_field, seoul_reason(lat_f, lon_f) + f" [read as {source_crs}]")
            continue
        if ident in seen:
            fail(line, spec.id_column, f"duplicate id {ident!r}")
            continue
        line_coords = None
        if point is not None and extra is not None and source_crs != WGS84:
            gap = _distance_m(lat_f, lon_f, extra[0], extra[1])
            if gap > CROSS_CHECK_TOLERANCE_M:
                fail(
                    line,
                    point.x,
                    f"{source_crs} coordinates land {gap:,.0f} m from the row's own lat/lon "
                    f"({extra[0]:.6f}, {extra[1]:.6f}): wrong CRS?",
                )
                continue
        if spec.line is not None and extra is not None:
            end_lat, end_lon = extra[2], extra[3]
            if not inside_seoul(end_lat, end_lon):
                fail(line, spec.line.end_lat, seoul_reason(end_lat, end_lon))
                continue
            line_coords = ((lon_f, lat_f), (end_lon, end_lat))
            lat_f, lon_f = (lat_f + end_lat) / 2, (lon_f + end_lon) / 2
        seen.add(ident)
        features.append(Feature(spec.name, ident, lat_f, lon_f, props, line_coords))
    return LoadedLayer(
        spec=spec,
        path=path,
        encoding=table.encoding,
        crs=source_crs,
        features=tuple(features),
        rejects=tuple(rejects),
    )
