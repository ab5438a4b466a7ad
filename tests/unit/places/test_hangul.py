"""Korean text for lookup: normalisation and jamo spelling."""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz

from places.hangul import jamo, normalize


def test_normalize_drops_spaces_punctuation_and_case() -> None:
    assert normalize(" 강남 역 ") == "강남역"
    assert normalize("서울역고가차도(서측)") == "서울역고가차도서측"
    assert normalize("Seoul-Station") == "seoulstation"


def test_normalize_composes_decomposed_input() -> None:
    assert normalize(unicodedata.normalize("NFD", "홍대입구")) == "홍대입구"


def test_jamo_spells_syllables_as_typed_keys() -> None:
    assert jamo("강남역") == "ㄱㅏㅇㄴㅏㅁㅇㅕㄱ"
    assert jamo("뭐") == "ㅁㅜㅓ"  # compound vowel: two keys
    assert jamo("닭") == "ㄷㅏㄹㄱ"  # final cluster: two keys
    assert jamo("A1") == "A1"


def test_one_wrong_key_is_one_wrong_character() -> None:
    typed, meant = jamo("강낭역"), jamo("강남역")
    assert len(typed) == len(meant)
    assert sum(a != b for a, b in zip(typed, meant, strict=True)) == 1
    assert fuzz.ratio(typed, meant) > fuzz.ratio("강낭역", "강남역")
