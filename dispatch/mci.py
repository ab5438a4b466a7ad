"""Mass-casualty incidents (다수사상자): casualty estimate, response level, START triage.

Pure functions over plain values. The live worker and the simulation call them on the calls
of a surge (``dispatch.surge``); the level is *proposed* with its reason and a supervisor
confirms it.

Response levels (소방 대응단계), as the Korean fire service uses them:

- 대응 1단계: the station area's units (관할 소방서); in practice under about 10 casualties.
- 대응 2단계: neighbouring stations join (인접 2-5개 소방서).
- 대응 3단계: the whole city (시·도 전체) and mutual aid from other provinces.

On 2022-10-29 in Itaewon the first 119 call came at 22:15; level 1 was declared at 22:43,
level 2 at 23:13 and level 3 at 23:50, with some 80 rescue calls by 23:30. The thresholds of
:class:`MciRules` are set so that such a night is proposed level 2 within minutes of the 3rd to
5th crowd call and level 3 as the calls and casualties grow; see the class for each number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from dispatch.surge import SurgeCall
from goldentime.errors import ContractError

RESPONSE_LEVELS: Mapping[int, str] = MappingProxyType(
    {
        1: "대응 1단계 (the station area's units)",
        2: "대응 2단계 (neighbouring stations)",
        3: "대응 3단계 (the whole city and mutual aid)",
    }
)
TRIAGE = ("red", "yellow", "green", "black")  # START: immediate, delayed, minor, dead/expectant
MAX_STATED = 100  # a caller's stated count is capped here: no caller sees more than this
MAX_TRIAGE = 10_000  # bound on one triage count entered from the scene


@dataclass(frozen=True, slots=True)
class CasualtyEstimate:
    calls: int
    distinct_callers: int
    estimate: int  # a lower bound: at least this many casualties
    reason: str


@dataclass(frozen=True, slots=True)
class LevelProposal:
    level: int
    reason: str


@dataclass(frozen=True, slots=True)
class MciRules:
    """Thresholds of the proposed response level (any one rule raises the level).

    Where they come from:

    - ``level2_casualties`` = 10: fire-service practice declares 대응 1단계 for incidents of
      "under about 10 casualties" (인명피해 10명 미만); from 10 a station alone is short.
    - ``level3_casualties`` = 30: several stations' ambulances (one or two patients each) are
      used up; 대응 3단계 is declared for mass-casualty disasters (Itaewon 2022, Hankook Tire).
    - ``level2_calls_per_10min`` = 4: four distinct callers in 10 minutes from within a few
      hundred metres reporting falls, breathing or a crowd is far above Seoul's EMS rate there
      (about one EMS call a minute for the whole city, i.e. ~0.005 per 10 min in a 300 m
      circle) and is how a crowd crush starts; it makes level 2 follow the 3rd-5th call.
    - ``level3_calls_per_10min`` = 20: Itaewon's calls reached about 80 in 75 minutes; 20 in 10
      minutes from one spot is such a night.
    - Ambulances: more casualties than the station area's free ambulances need the
      neighbouring stations (level 2); more than ``level3_ambulance_factor`` times them (the
      2-5 neighbouring stations of 대응 2단계 bring about as many each) need the city.
    """

    level2_casualties: int = 10
    level3_casualties: int = 30
    level2_calls_per_10min: int = 4
    level3_calls_per_10min: int = 20
    level3_ambulance_factor: float = 4.0

    def __post_init__(self) -> None:
        _need(1 <= self.level2_casualties <= 1_000, "level2_casualties", "1 to 1000")
        _need(
            self.level2_casualties < self.level3_casualties <= 10_000,
            "level3_casualties",
            "above level2_casualties, at most 10000",
        )
        _need(1 <= self.level2_calls_per_10min <= 1_000, "level2_calls_per_10min", "1 to 1000")
        _need(
            self.level2_calls_per_10min < self.level3_calls_per_10min <= 10_000,
            "level3_calls_per_10min",
            "above level2_calls_per_10min, at most 10000",
        )
        _need(
            math.isfinite(self.level3_ambulance_factor)
            and 1.0 < self.level3_ambulance_factor <= 50.0,
            "level3_ambulance_factor",
            "above 1, at most 50",
        )


# -- casualties stated in a call's description ------------------------------------------------

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
_KO_PLURAL = re.compile(r"사람들|여러\s*사람|많은\s*사람|사람이\s*많이|다수")
_EN_COUNT = re.compile(
    r"\b(?P<num>\d[\d,]*|"
    + "|".join(re.escape(w) for w in sorted(_EN_WORDS, key=len, reverse=True))
    + r")\s+(?:of\s+)?(?:[a-z-]+\s+){0,2}?"
    r"(?P<noun>people|persons|victims|casualties|injured|patients|men|women|children|kids|"
    r"bodies|students|teenagers|others)\b",
    re.IGNORECASE,
)
_EN_PLURAL = re.compile(r"\b(people|persons|victims|casualties|crowd)\b", re.IGNORECASE)


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


# -- estimate and level ------------------------------------------------------------------------


def estimate_casualties(calls: Sequence[SurgeCall]) -> CasualtyEstimate:
    """At least how many casualties the calls tell of.

    Callers are counted once per number (calls without a number count each): every distinct
    caller is taken to report at least one casualty. A caller's stated count ("3명 쓰러짐",
    "several people") may be higher; callers describe the same people, so counts are not
    added: the estimate is the larger of the distinct callers and the largest stated count
    (capped at :data:`MAX_STATED`). A lower bound, never a sum of overlapping reports.
    """
    seen: set[str] = set()
    ids: set[str] = set()
    unique_calls = 0
    anonymous = 0
    best: tuple[int, str, str] | None = None
    for index, call in enumerate(calls):
        if not isinstance(call, SurgeCall):
            raise ContractError(f"calls[{index}] must be a SurgeCall", field=f"calls[{index}]")
        if call.id in ids:  # the same call twice (a redelivery) is one call
            continue
        ids.add(call.id)
        unique_calls += 1
        number = (call.caller or "").strip()
        if number:
            seen.add(number)
        else:
            anonymous += 1
        stated = stated_casualties(call.description)
        if stated is not None and (best is None or stated[0] > best[0]):
            best = (stated[0], stated[1], call.id)
    distinct = len(seen) + anonymous
    if unique_calls == 0:
        return CasualtyEstimate(0, 0, 0, "no calls")
    repeats = unique_calls - distinct
    parts = [f"{unique_calls} calls from {distinct} callers"]
    if repeats:
        parts[0] += f" ({repeats} repeat calls of the same numbers counted once)"
    estimate = distinct
    if best is not None:
        parts.append(f"largest count stated: '{best[1]}' in {best[2]} ({best[0]})")
        estimate = max(distinct, best[0])
    parts.append(f"estimate: at least {estimate} casualties")
    return CasualtyEstimate(unique_calls, distinct, estimate, "; ".join(parts))


def propose_level(
    estimate: CasualtyEstimate,
    *,
    calls_per_10min: int,
    area_ambulances: int,
    rules: MciRules | None = None,
) -> LevelProposal:
    """The response level to propose (1-3) with its reason, in a supervisor's words.

    ``calls_per_10min``: the surge's calls in the last 10 minutes (repeat callers are not
    counted above the estimate's distinct callers); ``area_ambulances``: the free ambulances
    of the station area. Any one rule of :class:`MciRules` raises the level.
    """
    rules = rules if rules is not None else MciRules()
    if not isinstance(estimate, CasualtyEstimate):
        raise ContractError("estimate must be a CasualtyEstimate", field="estimate")
    _need(
        isinstance(calls_per_10min, int) and 0 <= calls_per_10min <= 1_000_000,
        "calls_per_10min",
        "a count >= 0",
    )
    _need(
        isinstance(area_ambulances, int) and 0 <= area_ambulances <= 100_000,
        "area_ambulances",
        "a count >= 0",
    )
    casualties = estimate.estimate
    rate = min(calls_per_10min, estimate.distinct_callers) if estimate.calls else calls_per_10min
    level3: list[str] = []
    level2: list[str] = []
    if casualties >= rules.level3_casualties:
        level3.append(f"{casualties} casualties estimated (level 3 from {rules.level3_casualties})")
    elif casualties >= rules.level2_casualties:
        level2.append(f"{casualties} casualties estimated (level 2 from {rules.level2_casualties})")
    if rate >= rules.level3_calls_per_10min:
        level3.append(f"{rate} callers in 10 min (level 3 from {rules.level3_calls_per_10min})")
    elif rate >= rules.level2_calls_per_10min:
        level2.append(f"{rate} callers in 10 min (level 2 from {rules.level2_calls_per_10min})")
    if casualties > 0 and area_ambulances == 0:
        level2.append("no free ambulance in the station area")
    elif area_ambulances and casualties > rules.level3_ambulance_factor * area_ambulances:
        level3.append(
            f"{casualties} casualties exceed {rules.level3_ambulance_factor:g} x the station "
            f"area's {area_ambulances} free ambulances"
        )
    elif area_ambulances and casualties > area_ambulances:
        level2.append(
            f"{casualties} casualties exceed the station area's {area_ambulances} free ambulances"
        )
    if level3:
        level, why = 3, level3 + level2
    elif level2:
        level, why = 2, level2
    else:
        level = 1
        why = [
            f"{casualties} casualties estimated, {rate} callers in 10 min, "
            f"{area_ambulances} free ambulances in the station area: below level 2 "
            f"({rules.level2_casualties} casualties, {rules.level2_calls_per_10min} callers "
            "in 10 min, or more casualties than ambulances)"
        ]
    return LevelProposal(level, f"{RESPONSE_LEVELS[level]}: " + "; ".join(why))


def triage_counts(counts: Mapping[str, object]) -> dict[str, int]:
    """START triage counts from the scene, validated: every key one of :data:`TRIAGE`, every
    count a whole number 0..10000; missing categories are 0."""
    if not isinstance(counts, Mapping):
        raise ContractError("triage must be an object of counts", field="triage")
    result = dict.fromkeys(TRIAGE, 0)
    for key, value in counts.items():
        if key not in result:
            raise ContractError(
                f"triage.{key}: unknown category (one of {', '.join(TRIAGE)})", field="triage"
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TRIAGE:
            raise ContractError(
                f"triage.{key} must be a whole number 0..{MAX_TRIAGE}", field=f"triage.{key}"
            )
        result[key] = value
    return result


def _need(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise ContractError(f"{field} must be {expected}", field=field)
