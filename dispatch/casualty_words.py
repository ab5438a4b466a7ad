"""Casualties in a caller's words: how many people a call's description speaks of.

Korean and English, as call-takers type them: digits and Korean native or sino-Korean numerals
before 명/사람 ("3명", "두 명", "이십 명"), 분 after native numerals ("두 분이"), vague quantities
("여러 명", "수십 명", "several", "dozens of people") and plurals without a number ("사람들이",
"인파", "people", "crowd"). Used by the casualty estimate (``dispatch.mci``) and by the burst
rule of surge detection (``dispatch.surge``: a burst counts when a caller speaks of several
people). Pure, bounded: a stated count is capped at :data:`MAX_STATED`.
"""

from __future__ import annotations

import re

MAX_STATED = 100  # a caller's stated count is capped here: no caller sees more than this

# Korean native numerals in their attributive forms (before 명/분), sino-Korean numerals, and
# vague quantities. Ranges ("두세 명": two or three) count their upper end; vague large words
# their lower end ("수십 명": tens of people -> 20).
_KO_NATIVE = {
    "한": 1, "두": 2, "세": 3, "석": 3, "네": 4, "넉": 4, "다섯": 5, "여섯": 6, "일곱": 7,
    "여덟": 8, "아홉": 9, "열": 10, "열한": 11, "열두": 12, "열세": 13, "열네": 14,
    "열다섯": 15, "스무": 20, "스물": 20, "서른": 30, "마흔": 40, "쉰": 50,
    "두세": 3, "서너": 4, "너덧": 5, "네댓": 5, "대여섯": 6, "예닐곱": 7,
}  # fmt: skip
_KO_VAGUE = {"여러": 3, "몇": 2, "수십": 20, "수백": 100, "십여": 10, "수": 3, "백": 100}
_KO_SINO_DIGIT = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_EN_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "a couple of": 2, "a couple": 2, "a few": 3,
    "few": 3, "several": 3, "many": 5, "lots of": 5, "a lot of": 5, "a dozen": 12,
    "dozen": 12, "dozens of": 20, "dozens": 20, "hundreds of": 100, "hundreds": 100,
}  # fmt: skip
_KO_WORD = "|".join(
    sorted([*_KO_NATIVE, *_KO_VAGUE], key=len, reverse=True)
)  # longest first: 열두 before 열, 수십 before 수
_KO_COUNT = re.compile(
    rf"(?<![가-힣0-9])(?P<num>\d[\d,]*|(?:[이삼사오육칠팔구]?십[일이삼사오육칠팔구]?|백)|{_KO_WORD})"
    r"\s*(?P<approx>여)?\s*(?:명|사람)"
)
# 분 (honorific for people) only after native numerals: "두 분이" is two people, "10분" minutes.
_KO_HONORIFIC = re.compile(
    rf"(?<![가-힣0-9])(?P<num>{'|'.join(sorted(_KO_NATIVE, key=len, reverse=True))})"
    r"\s*분(?=[이은을께도들]|\s|$)"
)
# Bystanders are not casualties: "사람들이 모여 있어요" (people gathered round) is no plural of
# the hurt.
_KO_PLURAL = re.compile(
    r"사람들(?!\s*[이은]?\s*(?:모여|구경|지켜|몰려\s*있))"
    r"|여러\s*사람|많은\s*사람|사람이\s*(?:너무\s*)?많|다수|인파|압사|겹겹이|군중"
)
_EN_COUNT = re.compile(
    r"\b(?P<num>\d[\d,]*|"
    + "|".join(re.escape(w) for w in sorted(_EN_WORDS, key=len, reverse=True))
    + r")\s+(?:of\s+)?(?:[a-z-]+\s+){0,2}?"
    r"(?P<noun>people|persons|victims|casualties|injured|patients|men|women|children|kids|"
    r"bodies|students|teenagers|others)\b",
    re.IGNORECASE,
)
_EN_PLURAL = re.compile(r"\b(people|persons|victims|casualties|crowd|crush)\b", re.IGNORECASE)


def stated_casualties(description: str) -> tuple[int, str] | None:
    """The largest number of people a caller's words state, with the words; None when none.

    "3명 쓰러짐" -> 3; "여러 명" -> 3; "수십 명" -> 20; "10여 명" -> 10; "두 분이" -> 2;
    "several people" -> 3; "dozens of people" -> 20; "people are crushed" -> 2 (a plural without
    a number). Numbers not about people ("3층", "10분 전", "2 cars") are not counted; each count
    is capped at :data:`MAX_STATED`.
    """
    text = description.strip()
    if not text:
        return None
    best: tuple[int, str] | None = None
    for match in [*_KO_COUNT.finditer(text), *_KO_HONORIFIC.finditer(text)]:
        value = _ko_value(match.group("num"))
        if value is not None and value > 0 and (best is None or value > best[0]):
            best = (value, match.group(0).strip())
    for match in _EN_COUNT.finditer(text):
        value = _en_value(match.group("num"))
        if value is not None and value > 0 and (best is None or value > best[0]):
            best = (value, match.group(0).strip())
    if best is None:
        plural = _KO_PLURAL.search(text) or _EN_PLURAL.search(text)
        if plural is not None:
            best = (2, plural.group(0))
    if best is None:
        return None
    return min(best[0], MAX_STATED), best[1]


def _ko_value(word: str) -> int | None:
    if word[0].isdigit():
        return _int(word)
    if word in _KO_NATIVE:
        return _KO_NATIVE[word]
    if word in _KO_VAGUE:
        return _KO_VAGUE[word]
    tens_part, _, ones_part = word.partition("십")
    tens = _KO_SINO_DIGIT.get(tens_part, 1) if tens_part else 1
    ones = _KO_SINO_DIGIT.get(ones_part, 0) if ones_part else 0
    return tens * 10 + ones


def _en_value(token: str) -> int | None:
    if token[0].isdigit():
        return _int(token)
    return _EN_WORDS.get(re.sub(r"\s+", " ", token.lower()))


def _int(token: str) -> int | None:
    digits = token.replace(",", "")
    if not digits.isdigit() or len(digits) > 6:
        return MAX_STATED if digits.isdigit() else None
    return int(digits)
