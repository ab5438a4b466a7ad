"""Reading layer files: text encoding, CSV rows, numbers, and coordinate reference systems.

Korean public data comes as UTF-8 (often with a BOM) or CP949; we try UTF-8 first, strictly,
then CP949, and say which one was used. Projected coordinates (EPSG:5186 "Korea 2000 Central
Belt 2010", EPSG:5181 "Korea 2000 Central Belt" ...) go to WGS84 through pyproj; distances are
computed in EPSG:5186 metres.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from firemap.errors import FiremapDataError

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:5186"
ENCODINGS = ("utf-8-sig", "cp949")

# Seoul with a margin of about 2 km (the bridge register includes two bridges of 광명시 on the
# border). A point outside this box is a wrong CRS, swapped axes or a typo.
SEOUL_LAT = (37.40, 37.72)
SEOUL_LON = (126.75, 127.20)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode_file(path: Path) -> DecodedText:
    """Read ``path`` as UTF-8 (BOM allowed) or CP949; fail naming the first undecodable byte."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FiremapDataError(f"cannot read: {err.strerror}", file=path) from err
    first_error: UnicodeDecodeError | None = None
    for encoding in ENCODINGS:
        try:
            return DecodedText(
                data.decode(encoding), "utf-8" if encoding == "utf-8-sig" else encoding
            )
        except UnicodeDecodeError as err:
            first_error = first_error or err
    assert first_error is not None
    line = data[: first_error.start].count(b"\n") + 1
    raise FiremapDataError(
        f"wrong encoding: neither UTF-8 nor CP949 (byte 0x{data[first_error.start]:02x} at "
        f"offset {first_error.start})",
        file=path,
        line=line,
    ) from first_error


@dataclass(frozen=True)
class CsvTable:
    """A decoded CSV file: header, rows with their line numbers, and the encoding used."""

    path: Path
    encoding: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, Mapping[str, str]], ...]

    def require_columns(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self.header]
        if missing:
            raise FiremapDataError(
                f"missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(self.header) or 'nothing'} (read as {self.encoding})",
                file=self.path,
                line=1,
            )


def read_csv(path: Path) -> CsvTable:
    decoded = decode_file(path)
    reader = csv.reader(io.StringIO(decoded.text, newline=""))
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        raise FiremapDataError("empty file: no header line", file=path, line=1) from None
    rows: list[tuple[int, Mapping[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            rows.append(
                (reader.line_num, dict(zip(header, (v.strip() for v in values), strict=False)))
            )
    except csv.Error as err:
        raise FiremapDataError(f"malformed CSV: {err}", file=path, line=reader.line_num) from err
    return CsvTable(path=path, encoding=decoded.encoding, header=header, rows=tuple(rows))


class RowError(ValueError):
    """A problem with one field of one row; the loader adds the file and line."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def number(row: Mapping[str, str], field: str, *, required: bool = True) -> float | None:
    """The finite float in ``row[field]``; RowError when missing (if required) or malformed."""
    raw = (row.get(field) or "").strip()
    if not raw:
        if required:
            raise RowError(field, "empty value where a number is required")
        return None
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        raise RowError(field, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise RowError(field, f"{raw!r} is not a finite number")
    return value


def text(row: Mapping[str, str], field: str) -> str | None:
    raw = (row.get(field) or "").strip()
    return raw or None


def resolve_crs(name: str, *, file: Path | str) -> str:
    """Normalise a CRS name ("EPSG:5186", "epsg:5181", "urn:ogc:def:crs:EPSG::5186") or fail."""
    try:
        crs = CRS.from_user_input(name)
    except CRSError as err:
        raise FiremapDataError(f"unknown CRS {name!r}", file=file) from err
    epsg = crs.to_epsg()
    if epsg is None:
        raise FiremapDataError(f"unknown CRS {name!r}: it has no EPSG code", file=file)
    return f"EPSG:{epsg}"


@lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def transform(
    source: str, target: str, xs: FloatArray, ys: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Vectorised coordinate transform (x/lon first, always)."""
    if source == target:
        return xs, ys
    out_x, out_y = _transformer(source, target).transform(xs, ys)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


def to_metric(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    return transform(WGS84, METRIC_CRS, lons, lats)


def inside_seoul(lat: float, lon: float) -> bool:
    return SEOUL_LAT[0] <= lat <= SEOUL_LAT[1] and SEOUL_LON[0] <= lon <= SEOUL_LON[1]


def seoul_reason(lat: float, lon: float) -> str:
    return (
        f"({lat:.6f}, {lon:.6f}) is outside Seoul (lat {SEOUL_LAT[0]}..{SEOUL_LAT[1]}, "
        f"lon {SEOUL_LON[0]}..{SEOUL_LON[1]}): wrong CRS, swapped axes or a typo?"
    )
