from __future__ import annotations

import json
from pathlib import Path

import pytest

from goldentime.settings import load_settings
from video_relay.errors import RegistryError
from video_relay.registry import CENTRAL_AREA, default_registry, load_registry, write_registry


def test_demo_cameras_are_central_and_one_plays_the_fire_clip() -> None:
    cameras = default_registry(load_settings().data.seoul_dir, include_sites=False)
    (lat_lo, lat_hi), (lon_lo, lon_hi) = CENTRAL_AREA
    assert all(lat_lo <= c.lat <= lat_hi and lon_lo <= c.lon <= lon_hi for c in cameras)
    fire = [c for c in cameras if c.source and c.source.endswith("house6.mp4")]
    assert len(fire) == 1 and Path(fire[0].source or "").is_file()


def test_gangnam_sites_are_loaded_as_streamless_cameras() -> None:
    cameras = default_registry(load_settings().data.seoul_dir)
    sites = [c for c in cameras if c.id.startswith("gangnam-cctv-")]
    assert len(sites) == 1763
    assert all(not s.streams and s.gu == "강남구" for s in sites)
    assert all(37.4 < s.lat < 37.6 and 126.9 < s.lon < 127.2 for s in sites)


def test_registry_round_trips_through_json(tmp_path: Path) -> None:
    cameras = default_registry(load_settings().data.seoul_dir, include_sites=False)
    path = tmp_path / "cameras.json"
    write_registry(path, cameras)
    assert load_registry(path) == cameras


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"cameras": [{"id": "a", "name": "x", "lat": 99, "lon": 127}]}, r"cameras\[0\]\.lat"),
        ({"cameras": [{"id": "a", "name": "x", "lat": 37.5, "lon": 127, "source": ""}]}, "source"),
        ({"cams": []}, "expected an object"),
        ({"cameras": [{"id": "a", "name": "x", "lat": 37.5, "lon": 127}] * 2}, "appears twice"),
    ],
)
def test_bad_registry_names_file_and_field(tmp_path: Path, payload: object, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(RegistryError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no such camera registry"):
        load_registry(tmp_path / "none.json")
