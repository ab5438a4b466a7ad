"""Point layers from ESRI Shapefiles: CRS from .prj, encoding from .cpg or detected."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import shapefile
from pyproj import CRS

from firemap.catalog import HYDRANTS
from firemap.errors import FiremapDataError
from firemap.layers import load_layer
from goldentime.settings import load_settings

DATA = load_settings().data.seoul_dir
# DBF field names hold 10 bytes: Korean names fit in cp949 (2 bytes a syllable), which is
# what Korean public Shapefiles use. Every CSV column is written as an attribute.


def hydrant_rows(n: int) -> list[dict[str, str]]:
    with (DATA / HYDRANTS.filename).open(encoding="utf-8") as handle:
        return [row for _, row in zip(range(n), csv.DictReader(handle), strict=False)]


def write_shapefile(
    path: Path, rows: list[dict[str, str]], *, encoding: str, cpg: bool, prj: bool = True
) -> Path:
    with shapefile.Writer(str(path), shapeType=shapefile.POINT, encoding=encoding) as writer:
        columns = list(rows[0])
        for name in columns:
            writer.field(name, "C", size=60)
        for row in rows:
            writer.point(float(row["좌표X"]), float(row["좌표Y"]))
            writer.record(*[row[c] for c in columns])
    if prj:
        path.with_suffix(".prj").write_text(
            CRS.from_epsg(5181).to_wkt("WKT1_ESRI"), encoding="utf-8"
        )
    if cpg:
        path.with_suffix(".cpg").write_text(encoding, encoding="ascii")
    return path.with_suffix(".shp")


@pytest.mark.parametrize(("encoding", "cpg"), [("cp949", True), ("cp949", False)])
def test_hydrants_from_a_shapefile_match_the_csv(tmp_path: Path, encoding: str, cpg: bool) -> None:
    rows = hydrant_rows(40)
    shp = write_shapefile(tmp_path / "hydrants", rows, encoding=encoding, cpg=cpg)
    from_shp = load_layer(HYDRANTS, shp)
    from_csv = load_layer(HYDRANTS, DATA / HYDRANTS.filename)
    assert len(from_shp.features) == 40 and not from_shp.rejects
    by_id = {f.id: f for f in from_csv.features}
    for feature in from_shp.features:
        twin = by_id[feature.id]
        assert feature.lat == pytest.approx(twin.lat, abs=1e-7)
        assert feature.lon == pytest.approx(twin.lon, abs=1e-7)
        assert feature.props == twin.props


def test_shapefile_without_crs_is_read_as_wgs84_and_rejected_outside_seoul(
    tmp_path: Path,
) -> None:
    shp = write_shapefile(tmp_path / "h", hydrant_rows(3), encoding="cp949", cpg=True, prj=False)
    with pytest.raises(FiremapDataError, match=r"line 1.*outside Seoul"):
        load_layer(HYDRANTS, shp)
    assert len(load_layer(HYDRANTS, shp, crs="EPSG:5181").features) == 3


def test_non_point_or_broken_shapefile_is_refused(tmp_path: Path) -> None:
    with shapefile.Writer(str(tmp_path / "lines"), shapeType=shapefile.POLYLINE) as writer:
        writer.field("name", "C")
        writer.line([[[126.97, 37.56], [126.98, 37.57]]])
        writer.record("a")
    with pytest.raises(FiremapDataError, match="expected point geometries"):
        load_layer(HYDRANTS, tmp_path / "lines.shp")
    (tmp_path / "junk.shp").write_bytes(b"not a shapefile at all")
    with pytest.raises(FiremapDataError, match="Shapefile"):
        load_layer(HYDRANTS, tmp_path / "junk.shp")
