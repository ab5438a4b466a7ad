"""Reading point layers from ESRI Shapefiles (pyshp), as a table like the CSV and GeoJSON ones.

The CRS comes from the ``.prj`` file (WKT, read by pyproj) unless the caller names one; the
attribute encoding from the ``.cpg`` file, else UTF-8 with a cp949 fallback (Korean public data
is often cp949). Each record's point becomes two columns, so the layer's ordinary row
validation (coordinates inside Seoul, required fields) applies unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

import shapefile
from pyproj import CRS
from pyproj.exceptions import CRSError

from firemap.errors import FiremapDataError
from firemap.sources import CsvTable

SHAPE_X = "__geometry_x"
SHAPE_Y = "__geometry_y"
FALLBACK_ENCODINGS = ("utf-8", "cp949")


def _prj_crs(path: Path) -> str | None:
    prj = path.with_suffix(".prj")
    if not prj.is_file():
        return None
    try:
        crs = CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace"))
    except CRSError as err:
        raise FiremapDataError(f"unknown CRS in {prj.name}: {err}", file=prj) from err
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def _encodings(path: Path) -> tuple[str, ...]:
    cpg = path.with_suffix(".cpg")
    if cpg.is_file():
        return (cpg.read_text(encoding="ascii", errors="replace").strip() or "utf-8",)
    return FALLBACK_ENCODINGS


def shapefile_table(path: Path) -> tuple[CsvTable, str | None]:
    """A point Shapefile as a table of attributes + geometry columns, and its CRS if known."""
    last: Exception | None = None
    for encoding in _encodings(path):
        try:
            with shapefile.Reader(str(path), encoding=encoding) as reader:
                if reader.shapeType not in {shapefile.POINT, shapefile.POINTZ, shapefile.POINTM}:
                    raise FiremapDataError(
                        f"expected point geometries, found {reader.shapeTypeName}", file=path
                    )
                names = [f[0] for f in reader.fields[1:]]
                rows: list[tuple[int, Mapping[str, str]]] = []
                for number, item in enumerate(reader.iterShapeRecords(), start=1):
                    props = {
                        k: "" if v is None else str(v)
                        for k, v in zip(names, item.record, strict=True)
                    }
                    if item.shape.points:
                        x, y = item.shape.points[0][:2]
                        props[SHAPE_X], props[SHAPE_Y] = str(x), str(y)
                    rows.append((number, props))
            header = (*names, SHAPE_X, SHAPE_Y)
            table = CsvTable(path=path, encoding=encoding, header=header, rows=tuple(rows))
            return table, _prj_crs(path)
        except (UnicodeDecodeError, shapefile.ShapefileException) as err:
            if "decode" not in str(err).lower() and not isinstance(err, UnicodeDecodeError):
                raise FiremapDataError(f"not a readable Shapefile: {err}", file=path) from err
            last = err  # wrong encoding: try the next one
        except (struct.error, OSError, ValueError) as err:
            raise FiremapDataError(f"not a readable Shapefile: {err}", file=path) from err
    raise FiremapDataError(f"attributes are not {' or '.join(_encodings(path))}: {last}", file=path)
