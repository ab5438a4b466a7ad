"""The whole-city basemap: roads of the configured network per zoom level, gu, 강동 gap."""

from __future__ import annotations

import gzip
import json

import pytest
from shapely.geometry import Polygon, shape

from console.basemap import Basemap
from console.basemap_build import LEVELS, MISSING_NOTE, hatch_lines, road_class
from console.errors import ConsoleError
from goldentime.settings import load_settings

from .conftest import SecuredConsole


def _json(basemap_body: bytes) -> object:
    return json.loads(basemap_body)


def test_levels_draw_arterials_at_city_zoom_and_every_link_at_street_zoom(
    shared_basemap: Basemap,
) -> None:
    classes = {
        name: {f["properties"]["class"] for f in _json(shared_basemap.roads(name).raw)["features"]}  # type: ignore[index]
        for name in LEVELS
    }
    assert classes["city"] == {"motorway", "trunk", "primary"}
    assert {"secondary", "tertiary"} <= classes["district"] and "minor" not in classes["district"]
    assert "minor" in classes["street"]
    street = _json(shared_basemap.roads("street").raw)
    segments = sum(f["properties"]["segments"] for f in street["features"])  # type: ignore[index]
    # Every road of the Seoul-wide network once (19.5k directed links: about 11k roads).
    assert 9_000 < segments < 19_529
    sizes = shared_basemap.sizes()
    assert sizes["roads:city"]["gzip"] < sizes["roads:street"]["gzip"] / 4, "city view is light"


def test_network_names_gangdong_as_missing_with_outline_hatch_and_note(
    shared_basemap: Basemap,
) -> None:
    body = _json(shared_basemap.network().raw)
    assert body["gu_missing"] == ["강동구"]  # type: ignore[index]
    assert len(body["gu_covered"]) == 24 and body["nodes"] > 7000  # type: ignore[index]
    assert body["source"].endswith("seoul_stdnodelink_2018")  # type: ignore[index]
    roles = {f["properties"]["role"]: f for f in body["gaps"]["features"]}  # type: ignore[index]
    assert set(roles) == {"outline", "hatch"}
    assert roles["outline"]["properties"]["note"] == MISSING_NOTE
    gangdong = shape(roles["outline"]["geometry"])
    lat, lon = roles["outline"]["properties"]["label"]
    assert gangdong.contains(shape({"type": "Point", "coordinates": [lon, lat]}))
    assert gangdong.buffer(1e-4).contains(shape(roles["hatch"]["geometry"]))


def test_central_network_is_honest_about_the_city_it_lacks() -> None:
    body = _json(Basemap(load_settings(routing={"network": "central"})).network().raw)
    assert "중구" in body["gu_covered"] and "강남구" in body["gu_missing"]  # type: ignore[index]


def test_hatch_stays_inside_its_polygon() -> None:
    square = Polygon([(0, 0), (0.02, 0), (0.02, 0.02), (0, 0.02)])
    lines = hatch_lines(square, spacing=0.004)
    assert square.buffer(1e-9).contains(lines)
    assert len(lines.geoms) >= 8


def test_road_class_of_osm_and_standard_network_values() -> None:
    assert road_class("primary_link") == ("primary", True)
    assert road_class("['residential', 'service']") == ("minor", False)
    assert road_class("trunk") == ("trunk", False)


def test_served_compressed_with_etag_and_304(secured: SecuredConsole) -> None:
    client = secured.sign_in("disp")
    r = client.get("/api/basemap/roads", params={"level": "city"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.json()["properties"]["level"] == "city"
    again = client.get(
        "/api/basemap/roads", params={"level": "city"}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    assert client.get("/api/basemap/roads", params={"level": "block"}).status_code == 422
    assert client.get("/api/basemap/gu").json()["features"][0]["properties"]["name"]
    centres = client.get("/api/basemap/stations").json()
    assert len(centres) > 100 and all(c["name"].endswith("안전센터") for c in centres)
    assert client.get("/api/basemap/network").json()["gu_missing"] == ["강동구"]


def test_payload_gzip_round_trips(shared_basemap: Basemap) -> None:
    payload = shared_basemap.gu()
    assert gzip.decompress(payload.gz) == payload.raw


def test_unreadable_boundaries_are_a_console_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "boundaries" / "seoul_gu.geojson").write_text('{"features": [{"properties": {}}]}')
    basemap = Basemap(load_settings(data={"seoul_dir": tmp_path}))
    with pytest.raises(ConsoleError, match="SIG_KOR_NM"):
        basemap.gu()
