"""Tolerant Korean search on the gazetteer built from the shipped Seoul data."""

from __future__ import annotations

from pathlib import Path

import pytest

import places
from places import Atlas, PlaceQueryError

from .conftest import SEOUL


def names(atlas: Atlas, text: str, limit: int = 5) -> list[tuple[str, str]]:
    return [(p.name, p.kind) for p in atlas.gazetteer.search(text, limit=limit)]


def test_the_gazetteer_holds_every_kind_of_place(atlas: Atlas) -> None:
    counts = atlas.gazetteer.counts()
    assert set(counts) == set(places.KINDS)
    assert counts["gu"] == 25
    assert counts["fire_station"] == 24
    assert counts["safety_center"] > 140
    assert counts["emergency_room"] == 68
    assert counts["station"] > 150
    assert counts["road"] > 2000
    assert len(atlas.gazetteer) > 10_000


@pytest.mark.parametrize("typed", ["강남역", "강남 역", " 강남역 ", "강남"])
def test_spacing_and_the_station_suffix(atlas: Atlas, typed: str) -> None:
    first = atlas.gazetteer.search(typed, limit=1)[0]
    assert (first.name, first.kind, first.gu) == ("강남역", "station", "강남구")


@pytest.mark.parametrize("typed", ["홍대입구역", "홍대입구", "홍대", "홍대 입구"])
def test_entrance_station_variants(atlas: Atlas, typed: str) -> None:
    assert names(atlas, typed)[0] == ("홍대입구역", "station")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("강낭역", "강남역"),
        ("홍대입국역", "홍대입구역"),
        ("서울시천", "서울시청"),
        ("사직터닐", "사직터널"),
    ],
)
def test_jamo_level_typos(atlas: Atlas, typed: str, meant: str) -> None:
    assert names(atlas, typed)[0][0] == meant


def test_exact_beats_prefix_beats_fuzzy(atlas: Atlas) -> None:
    found = names(atlas, "세종대로", limit=10)
    assert found[0] == ("세종대로", "road")
    assert all(name.startswith("세종대로") for name, _ in found[1:4])


def test_kind_priority_breaks_ties(atlas: Atlas) -> None:
    # "강남" is an alias of the station and of the gu: the station (a point) comes first
    assert names(atlas, "강남")[:2] == [("강남역", "station"), ("강남구", "gu")]
    assert names(atlas, "중구")[0] == ("중구", "gu")


def test_authoritative_records_replace_network_duplicates(atlas: Atlas) -> None:
    found = names(atlas, "강남소방서")
    assert found[0] == ("강남소방서", "fire_station")
    assert ("강남소방서", "landmark") not in found


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("여의도성모병원", ("가톨릭대학교 여의도성모병원", "emergency_room")),
        ("서울대병원", ("서울대학교병원", "emergency_room")),
        ("영동안전센터", ("영동119안전센터", "safety_center")),
        ("성수대교", ("성수대교", "bridge")),
        ("사직터널", ("사직터널", "tunnel")),
        ("역삼동", ("역삼동", "dong")),
        ("개포로 31길 48", ("개포로 31길 48", "cctv")),
        ("올림픽로 300", ("올림픽로 300", "hydrant")),
    ],
)
def test_each_source_is_searchable(atlas: Atlas, typed: str, expected: tuple[str, str]) -> None:
    assert expected in names(atlas, typed)


def test_a_longer_description_finds_its_known_head(atlas: Atlas) -> None:
    assert names(atlas, "강남역 2번 출구 앞")[0] == ("강남역", "station")


def test_results_are_unique_and_limited(atlas: Atlas) -> None:
    found = atlas.gazetteer.search("올림픽로", limit=7)
    assert len(found) == 7
    assert len({(p.name, p.kind, p.gu) for p in found}) == 7


def test_place_json_shape(atlas: Atlas) -> None:
    body = atlas.gazetteer.search("서울시청", limit=1)[0].as_json()
    assert set(body) == {"name", "kind", "lat", "lon", "gu"}
    assert body["gu"] == "중구"
    assert abs(body["lat"] - 37.566) < 0.003 and abs(body["lon"] - 126.978) < 0.003


def test_nonsense_finds_nothing(atlas: Atlas) -> None:
    assert atlas.gazetteer.search("zqxwv", limit=5) == []


@pytest.mark.parametrize(
    ("text", "limit", "field"),
    [
        ("", 5, "q"),
        ("   ", 5, "q"),
        ("x" * 101, 5, "q"),
        ("강남", 0, "limit"),
        ("강남", 51, "limit"),
    ],
)
def test_bad_queries_name_the_field(text: str, limit: int, field: str) -> None:
    with pytest.raises(PlaceQueryError) as err:
        places.search(text, limit=limit, data_dir=SEOUL)
    assert err.value.field == field


def test_missing_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(places.PlacesDataError, match="standard network"):
        places.atlas(tmp_path)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Gangnam-gu", ("강남구", "gu")),
        ("jongno", ("종로구", "gu")),
        ("Yeoksam", ("역삼동", "dong")),
    ],
)
def test_english_names_of_gu_and_dong(atlas: Atlas, typed: str, expected: tuple[str, str]) -> None:
    assert names(atlas, typed)[0] == expected
