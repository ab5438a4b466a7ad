"""Node names of the standard network made into place names."""

from __future__ import annotations

import pytest

from places.names import aliases, clean_node_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("강남역", ("강남역", "station")),
        ("신설동역_일반국도6호선", ("신설동역", "station")),
        ("삼각지역_한강로_진입_2", ("삼각지역", "station")),
        ("금호역3번출구", ("금호역", "station")),
        ("용산역앞", ("용산역", "station")),
        ("사직터널(남측)", ("사직터널", "tunnel")),
        ("남산3호터널_남산3호터", ("남산3호터널", "tunnel")),
        ("서울역고가차도(서측)_1", ("서울역고가차도", "bridge")),
        ("강변북로-이촌동길램프(", ("강변북로-이촌동길램프", "intersection")),
        ("영동대로_올림픽대로_진", ("영동대로-올림픽대로", "intersection")),
        ("개화IC15", ("개화IC", "intersection")),
        ("온수입구삼거리", ("온수입구삼거리", "intersection")),
        ("서울시청", ("서울시청", "landmark")),
        ("배명중고등학교", ("배명중고등학교", "landmark")),
        ("잠실고교", ("잠실고교", "landmark")),
        ("혜화초교", ("혜화초교", "landmark")),
        ("송파중교", ("송파중교", "landmark")),
        ("와산교", ("와산교", "bridge")),
        ("무지개다리", ("무지개다리", "bridge")),
    ],
)
def test_clean_node_name(raw: str, expected: tuple[str, str]) -> None:
    assert clean_node_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "  ", "강남구-송파구경계(2)", "종로구-성북구경계(3)"])
def test_nameless_and_border_nodes_are_no_place(raw: str) -> None:
    assert clean_node_name(raw) is None


def test_aliases_of_a_station() -> None:
    assert aliases("홍대입구역", "station") == ["홍대입구역", "홍대입구", "홍대"]
    assert aliases("강남역", "station") == ["강남역", "강남"]


def test_aliases_of_long_names() -> None:
    assert "여의도성모병원" in aliases("가톨릭대학교 여의도성모병원", "emergency_room")
    assert "서울대병원" in aliases("서울대학교병원", "emergency_room")
    assert "영동안전센터" in aliases("영동119안전센터", "safety_center")
