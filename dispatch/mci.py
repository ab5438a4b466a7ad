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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from dispatch.casualty_words import stated_casualties
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
    - ``level2_calls_per_10min`` = 4: four calls (from at least ``rate_min_callers`` callers)
      in 10 minutes from within a few hundred metres reporting falls, breathing or a crowd
      is far above Seoul's EMS rate there
      (about one EMS call a minute for the whole city, i.e. ~0.005 per 10 min in a 300 m
      circle) and is how a crowd crush starts; it makes level 2 follow the 3rd-5th call.
    - ``level3_calls_per_10min`` = 20: Itaewon's calls reached about 80 in 75 minutes; 20 in 10
      minutes from one spot is such a night.
    - ``rate_min_callers`` = 3: the call rate counts every call (a caller calling back in
      minutes says it is getting worse) once this many distinct callers report; below that,
      repeat calls are not counted above the callers (one person calling ten times is one
      caller, not a surge).
    - Ambulances: more casualties than the station area's free ambulances need the
      neighbouring stations (level 2); more than ``level3_ambulance_factor`` times them (the
      2-5 neighbouring stations of 대응 2단계 bring about as many each) need the city.
    """

    level2_casualties: int = 10
    level3_casualties: int = 30
    level2_calls_per_10min: int = 4
    level3_calls_per_10min: int = 20
    level3_ambulance_factor: float = 4.0
    rate_min_callers: int = 3

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
        _need(1 <= self.rate_min_callers <= 100, "rate_min_callers", "1 to 100")
        _need(
            math.isfinite(self.level3_ambulance_factor)
            and 1.0 < self.level3_ambulance_factor <= 50.0,
            "level3_ambulance_factor",
            "above 1, at most 50",
        )


# -- estimate and level ------------------------------------------------------------------------


def estimate_casualties(calls: Sequence[SurgeCall]) -> CasualtyEstimate:
    """At least how many casualties the calls tell of.

    Callers are counted once per number (calls without a number count each): every distinct
    caller is taken to report at least one casualty. A caller's stated count ("3명 쓰러짐",
    "several people") may be higher; callers describe the same people, so counts are not
    added: the estimate is the larger of the distinct callers and the largest stated count
    (capped at ``dispatch.casualty_words.MAX_STATED``). A lower bound, never a sum of
    overlapping reports.
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
    triage: Mapping[str, int] | None = None,
) -> LevelProposal:
    """The response level to propose (1-3) with its reason, in a supervisor's words.

    ``calls_per_10min``: the surge's calls in the last 10 minutes (with fewer distinct
    callers than ``rules.rate_min_callers``, not counted above them); ``area_ambulances``:
    the free ambulances of the station area; ``triage``: START counts from the scene, when
    entered (their sum, black included, replaces the calls' estimate when larger: the scene
    has counted). Any one rule of :class:`MciRules` raises the level.
    """
    rules = rules if rules is not None else MciRules()
    counted = sum(triage_counts(triage).values()) if triage is not None else 0
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
    casualties = max(estimate.estimate, counted)
    scene = f" ({counted} counted at the scene)" if counted >= estimate.estimate and counted else ""
    rate = calls_per_10min
    if estimate.calls and estimate.distinct_callers < rules.rate_min_callers:
        rate = min(calls_per_10min, estimate.distinct_callers)
    level3: list[str] = []
    level2: list[str] = []
    if casualties >= rules.level3_casualties:
        level3.append(
            f"{casualties} casualties estimated{scene} (level 3 from {rules.level3_casualties})"
        )
    elif casualties >= rules.level2_casualties:
        level2.append(
            f"{casualties} casualties estimated{scene} (level 2 from {rules.level2_casualties})"
        )
    if rate >= rules.level3_calls_per_10min:
        level3.append(f"{rate} calls in 10 min (level 3 from {rules.level3_calls_per_10min})")
    elif rate >= rules.level2_calls_per_10min:
        level2.append(f"{rate} calls in 10 min (level 2 from {rules.level2_calls_per_10min})")
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
            f"{casualties} casualties estimated, {rate} calls in 10 min, "
            f"{area_ambulances} free ambulances in the station area: below level 2 "
            f"({rules.level2_casualties} casualties, {rules.level2_calls_per_10min} calls "
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
