"""Korean text as a call-taker types it: normalised for lookup, and split into jamo for typos.

A Hangul syllable is arithmetic on its code point (U+AC00 + (initial * 21 + medial) * 28 +
final), so decomposition is a few lines here rather than a dependency: the jamo libraries on
PyPI are unmaintained (``jamo`` last released 2017). Compound vowels and final clusters are
split into the keys typed on a 2-beolsik keyboard (ㅘ -> ㅗㅏ, ㄺ -> ㄹㄱ), so one wrong key is
one wrong character: "강낭역" is one jamo away from "강남역".
"""

from __future__ import annotations

import re
import unicodedata

SYLLABLE_FIRST, SYLLABLE_LAST = 0xAC00, 0xD7A3
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_COMPOUNDS = "ㅘㅙㅚㅝㅞㅟㅢㄳㄵㄶㄺㄻㄼㄽㄾㄿㅀㅄ"
_VOWEL_KEYS = ("ㅗㅏ", "ㅗㅐ", "ㅗㅣ", "ㅜㅓ", "ㅜㅔ", "ㅜㅣ", "ㅡㅣ")
_FINAL_KEYS = (
    "ㄱㅅ",
    "ㄴㅈ",
    "ㄴㅎ",
    "ㄹㄱ",
    "ㄹㅁ",
    "ㄹㅂ",
    "ㄹㅅ",
    "ㄹㅌ",
    "ㄹㅍ",
    "ㄹㅎ",
    "ㅂㅅ",
)
KEYSTROKES = dict(zip(_COMPOUNDS, _VOWEL_KEYS + _FINAL_KEYS, strict=True))
# Spaces and punctuation a name may or may not be typed with: "강남 역", "서울역(1호선)".
_SEPARATORS = re.compile(r"[\s\-_·.,()\[\]/'\"~]+")


def normalize(text: str) -> str:
    """Lookup form: NFC (macOS sends jamo sequences), lower case, no spaces or punctuation."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFC", text).casefold())


def _spell(code: int) -> str:
    initial, rest = divmod(code - SYLLABLE_FIRST, 21 * 28)
    medial, final = divmod(rest, 28)
    return "".join(
        KEYSTROKES.get(p, p) for p in (INITIALS[initial], MEDIALS[medial], FINALS[final])
    )


# One translation table for all 11,172 syllables and the compound jamo: str.translate in C.
_TABLE: dict[int, str] = {c: _spell(c) for c in range(SYLLABLE_FIRST, SYLLABLE_LAST + 1)}
_TABLE.update({ord(k): v for k, v in KEYSTROKES.items()})


def jamo(text: str) -> str:
    """``text`` with each Hangul syllable spelled as the keys typed for it (others unchanged)."""
    return text.translate(_TABLE)
