"""Reverse geocoding on known points of Seoul."""

from __future__ import annotations

import pytest

from places import Atlas


@pytest.mark.parametrize(
    ("lat", "lon", "gu", "dong", "intersection", "road"),
    [
        (37.5663, 126.9779, "중구", "태평로1가", "서울시청", "세종대로"),  # Seoul City Hall
        (
            37.4979,
            127.0276,
            "서초구",
            "서초동",
            "강남역",
            "강남대로",
        ),  # Gangnam station (west side)
        (37.5552, 126.9216, "마포구", "동교동", "홍대입구역", "홍익로"),  # Hongik Univ. station
    ],
)
def test_known_points(
    atlas: Atlas, lat: float, lon: float, gu: str, dong: str, intersection: str, road: str
) -> None:
    found = atlas.geocoder.reverse(lat, lon)
    assert (found.gu, found.dong) == (gu, dong)
    assert found.intersection == intersection
    assert found.road == road
    assert found.intersection_m is not None and found.intersection_m < 300
    assert found.road_m is not None and found.road_m < 100


def test_json_and_label(atlas: Atlas) -> None:
    body = atlas.geocoder.reverse(37.5663, 126.9779).as_json()
    assert set(body) == {
        "gu", "dong", "admin_dong", "intersection", "intersection_m", "road", "road_m", "label"
    }  # fmt: skip
    assert body["label"].startswith("중구 태평로1가 · 서울시청 ")
    assert body["label"].endswith(" · 세종대로")


def test_a_batch_answers_like_single_points(atlas: Atlas) -> None:
    points = [(37.5663, 126.9779), (37.4979, 127.0276), (37.5552, 126.9216)]
    assert atlas.geocoder.reverse_many(points) == [atlas.geocoder.reverse(*p) for p in points]


def test_gangdong_has_gu_and_dong_but_no_network(atlas: Atlas) -> None:
    # 강동구 is missing from the standard network cut: no "nearest" road far away
    found = atlas.geocoder.reverse(37.5502, 127.1470)  # 강동구청 area
    assert found.gu == "강동구"
    assert found.dong is not None
    assert found.road is None


def test_outside_seoul_is_none_everywhere(atlas: Atlas) -> None:
    found = atlas.geocoder.reverse(35.1796, 129.0756)  # Busan
    assert found.gu is None and found.intersection is None and found.road is None
    assert found.label == ""
