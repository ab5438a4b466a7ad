"""Loader validation: encoding, columns, CRS, coordinates, lenient mode, GeoJSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from firemap.catalog import HYDRANTS, LAYERS
from firemap.errors import FiremapDataError
from firemap.layers import load_layer

from .conftest import HYDRANT_HEADER, HYDRANT_ROWS

Write = Callable[..., Path]


def test_utf8_rows_load_with_pyproj_transform_matching_their_own_latlon(write_file: Write) -> None:
    layer = load_layer(HYDRANTS, write_file("h.csv", [HYDRANT_HEADER, *HYDRANT_ROWS]))
    assert layer.encoding == "utf-8" and layer.crs == "EPSG:5181"
    first = layer.features[0]
    assert first.id == "110083413"
    # The file's own lat/lon came from another conversion and sit ~6 m away.
    assert first.lat == pytest.approx(37.51322012606922, abs=1e-4)
    assert first.lon == pytest.approx(127.10497529818711, abs=1e-4)
    assert [f.props["state"] for f in layer.features] == ["working", "working", "out_of_service"]
    assert first.props["address"] == "올림픽로 300"


def test_cp949_file_is_detected(write_file: Write) -> None:
    path = write_file("h.csv", [HYDRANT_HEADER, *HYDRANT_ROWS], encoding="cp949")
    layer = load_layer(HYDRANTS, path)
    assert layer.encoding == "cp949"
    assert layer.features[2].props["centre"] == "거여119안전센터"


def test_undecodable_bytes_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(HYDRANT_HEADER.encode() + b"\n1,\xff\xfe\xff\n")
    with pytest.raises(FiremapDataError, match=r"bad\.csv, line 2: wrong encoding") as info:
        load_layer(HYDRANTS, path)
    assert info.value.line == 2


def test_missing_columns_are_named(write_file: Write) -> None:
    header = HYDRANT_HEADER.replace("사용구분,", "")
    rows = [r.replace(",양호,", ",", 1) for r in HYDRANT_ROWS[:1]]
    with pytest.raises(FiremapDataError, match=r"missing column.*사용구분") as info:
        load_layer(HYDRANTS, write_file("h.csv", [header, *rows]))
    assert info.value.line == 1


def test_point_outside_seoul_names_line_and_field(write_file: Write) -> None:
    bad = HYDRANT_ROWS[1].replace("444880.8784", "344880.8784").replace("37.50327", "36.60327")
    path = write_file("h.csv", [HYDRANT_HEADER, HYDRANT_ROWS[0], bad, HYDRANT_ROWS[2]])
    with pytest.raises(FiremapDataError, match=r"line 3, field '좌표Y'.*outside Seoul"):
        load_layer(HYDRANTS, path)


def test_lenient_mode_loads_the_rest_and_lists_rejects(write_file: Write) -> None:
    bad_state = HYDRANT_ROWS[1].replace(",양호,", ",모름,")
    bad_x = HYDRANT_ROWS[2].replace("212996.2247", "abc")
    path = write_file("h.csv", [HYDRANT_HEADER, HYDRANT_ROWS[0], bad_state, bad_x])
    layer = load_layer(HYDRANTS, path, lenient=True)
    assert [f.id for f in layer.features] == ["110083413"]
    assert [(r.line, r.field) for r in layer.rejects] == [(3, "사용구분"), (4, "좌표X")]
    assert "'abc' is not a number" in layer.rejects[1].reason


def test_unknown_crs_is_refused(write_file: Write) -> None:
    path = write_file("h.csv", [HYDRANT_HEADER, *HYDRANT_ROWS])
    with pytest.raises(FiremapDataError, match="unknown CRS 'EPSG:999999'"):
        load_layer(HYDRANTS, path, crs="EPSG:999999")


def test_wrong_crs_inside_seoul_is_caught_by_the_rows_own_latlon(write_file: Write) -> None:
    # EPSG:5186 has a false northing 100 km larger than 5181: the points move, still in Korea.
    path = write_file("h.csv", [HYDRANT_HEADER, *HYDRANT_ROWS])
    layer = load_layer(HYDRANTS, path, crs="EPSG:5186", lenient=True)
    assert layer.features == ()
    assert all("outside Seoul" in r.reason or "wrong CRS" in r.reason for r in layer.rejects)
    # A 100 m shift keeps the point in Seoul: the cross-check with lat/lon must catch it.
    shifted = HYDRANT_ROWS[0].replace("209279.7409", "209379.7409")
    with pytest.raises(
        FiremapDataError,
        match=r"line 2, field '좌표X'.* land (9\d|10\d) m from the row's own lat/lon",
    ):
        load_layer(HYDRANTS, write_file("s.csv", [HYDRANT_HEADER, shifted]))


def test_duplicate_ids_are_rejected(write_file: Write) -> None:
    path = write_file("h.csv", [HYDRANT_HEADER, HYDRANT_ROWS[0], HYDRANT_ROWS[0]])
    with pytest.raises(FiremapDataError, match=r"line 3.*duplicate id '110083413'"):
        load_layer(HYDRANTS, path)


def test_geojson_with_named_projected_crs(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5186"}},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [192436.056, 552336.955]},
                "properties": {"비상소화장치일련번호": "X1", "사용구분": "52201"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [92436.056, 552336.955]},
                "properties": {"비상소화장치일련번호": "X2", "사용구분": "52201"},
            },
        ],
    }
    path = tmp_path / "devices.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    layer = load_layer(LAYERS["fire_devices"], path, lenient=True)
    assert layer.crs == "EPSG:5186"
    assert [f.id for f in layer.features] == ["X1"]
    assert layer.features[0].lat == pytest.approx(37.5705428, abs=1e-5)
    assert layer.rejects[0].line == 2 and "outside Seoul" in layer.rejects[0].reason


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_shipped_layer_loads_strictly(name: str, seoul_dir: Path) -> None:
    spec = LAYERS[name]
    layer = load_layer(spec, seoul_dir / spec.filename)
    assert layer.rejects == ()
    assert len(layer.features) > 0
