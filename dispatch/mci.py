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
class StationReach:
    """A station (a 119안전센터 with ambulances) seen from an incident: how long its vehicles
    take from home by road, which 소방서 it belongs to (the jurisdiction 대응 1단계 commits:
    its own name for a 소방서) and how many of its ambulances are free."""

    station_id: str
    name: str
    jurisdiction: str
    eta_s: float | None  # None: no road from it within the search
    free_ambulances: int


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A neighbouring 소방서 of 대응 2단계: the ETA of its nearest station, its free ambulances."""

    name: str
    eta_s: float
    free_ambulances: int


@dataclass(frozen=True, slots=True)
class StationArea:
    """Whose units each level commits, by road: 대응 1단계 the first-due station's 소방서
    (``jurisdiction``: all its stations), 2단계 the neighbouring 소방서 (``neighbours``, the
    next ones by road ETA), 3단계 the city. ``basis`` says how the ETAs were found."""

    first_due: StationReach
    jurisdiction: str
    stations: int  # stations of the jurisdiction
    ambulances: int  # their free ambulances (대응 1단계)
    neighbours: tuple[Neighbour, ...]
    basis: str = "by road"
    area_ids: frozenset[str] = frozenset()  # station ids of the jurisdiction
    neighbour_ids: frozenset[str] = frozenset()  # station ids of the neighbouring 소방서

    def scope(self, level: int) -> frozenset[str] | None:
        """The stations whose units a confirmed level commits (None: the whole city)."""
        _need(level in RESPONSE_LEVELS, "level", "1, 2 or 3")
        if level == 1:
            return self.area_ids
        if level == 2:
            return self.area_ids | self.neighbour_ids
        return None

    def scope_words(self, level: int) -> str:
        """Whose units ``level`` commits, in the timeline's words."""
        if level == 1:
            return f"관할 {self.jurisdiction}'s stations"
        if level == 2:
            names = ", ".join(n.name for n in self.neighbours) or "none reachable"
            return f"관할 {self.jurisdiction} and the neighbouring {names}"
        return "the whole city"

    @property
    def neighbour_ambulances(self) -> int:
        return sum(n.free_ambulances for n in self.neighbours)

    def words(self) -> str:
        """Which stations and why, e.g. "관할 용산소방서 (first-due 이태원119안전센터, 2.1 min
        by road): 5 free ambulances in its 5 stations"."""
        first = self.first_due
        eta = "" if first.eta_s is None else f", {first.eta_s / 60:.1f} min {self.basis}"
        return (
            f"관할 {self.jurisdiction} (first-due {first.name}{eta}): {self.ambulances} free "
            f"ambulance{'s' if self.ambulances != 1 else ''} in its {self.stations} station"
            f"{'s' if self.stations != 1 else ''}"
        )

    def neighbour_words(self) -> str:
        """The neighbouring 소방서 of 대응 2단계 by road, nearest first."""
        if not self.neighbours:
            return "no neighbouring station reachable"
        listed = ", ".join(
            f"{n.name} ({n.eta_s / 60:.1f} min, {n.free_ambulances})" for n in self.neighbours
        )
        return f"neighbouring stations {self.basis} (ETA, free ambulances): {listed}"


def station_area(
    stations: Sequence[StationReach], *, neighbours: int = 4, basis: str = "by road"
) -> StationArea | None:
    """The station area of an incident from its stations' road ETAs (None: none reachable).

    The first-due station is the one whose home is nearest by road; its 소방서 is the
    jurisdiction (관할) whose stations 대응 1단계 commits; 대응 2단계 adds the next ``neighbours``
    소방서 in the order their nearest station reaches the incident (the fire service's 2단계
    mobilises 2-5 소방서: the jurisdiction and up to 4 neighbours). ``basis``: how the ETAs
    were found, in the reason's words ("by road").
    """
    _need(isinstance(neighbours, int) and 0 <= neighbours <= 50, "neighbours", "0 to 50")
    reachable = sorted(
        (s for s in stations if s.eta_s is not None and math.isfinite(s.eta_s)),
        key=lambda s: (s.eta_s, s.station_id),
    )
    if not reachable:
        return None
    first = reachable[0]
    own = [s for s in stations if s.jurisdiction == first.jurisdiction]
    found: dict[str, Neighbour] = {}
    free: dict[str, int] = {}
    for s in stations:
        free[s.jurisdiction] = free.get(s.jurisdiction, 0) + s.free_ambulances
    for s in reachable:
        if len(found) >= neighbours:
            break
        if s.jurisdiction != first.jurisdiction and s.jurisdiction not in found:
            assert s.eta_s is not None  # reachable
            found[s.jurisdiction] = Neighbour(s.jurisdiction, s.eta_s, free[s.jurisdiction])
    return StationArea(
        first_due=first,
        jurisdiction=first.jurisdiction,
        stations=len(own),
        ambulances=sum(s.free_ambulances for s in own),
        neighbours=tuple(found.values()),
        basis=basis,
        area_ids=frozenset(s.station_id for s in own),
        neighbour_ids=frozenset(s.station_id for s in stations if s.jurisdiction in found),
    )


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
    - ``level2_witnesses`` = 3: three distinct callers in the surge's window (10 min, a few
      hundred metres) who each speak of several people ("사람들이 깔려", "3명 쓰러짐",
      "인파") are independent witnesses of one multi-casualty event (다수사상자: 5 or more
      casualties in the fire service's MCI rules): grounds for 2단계 on their own, before the
      count of calls or casualties says so. A caller who calls back is one witness; callers
      get through minutes apart, so the calls' rate alone can lag the 3rd witness by minutes
      (measured over 100 crowd-crush seeds: docs/simulation.md).
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
    level2_witnesses: int = 3

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
        _need(2 <= self.level2_witnesses <= 100, "level2_witnesses", "2 to 100")
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
    area_ambulances: int | None = None,
    station_area: StationArea | None = None,
    witnesses: int = 0,
    rules: MciRules | None = None,
    triage: Mapping[str, int] | None = None,
) -> LevelProposal:
    """The response level to propose (1-3) with its reason, in a supervisor's words.

    ``calls_per_10min``: the surge's calls in the last 10 minutes (with fewer distinct
    callers than ``rules.rate_min_callers``, not counted above them); ``station_area``: whose
    units each level commits, by road (:func:`station_area`), named in the reason; without
    it, ``area_ambulances``: the free ambulances of the station area (one of the two is
    needed); ``witnesses``: distinct callers of the surge's window who each speak of several
    people (``dispatch.surge.SurgeArea.several_callers``); ``triage``: START counts from the
    scene, when entered (their sum, black
    included, replaces the calls' estimate when larger: the scene has counted). Any one rule
    of :class:`MciRules` raises the level.
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
    _need(isinstance(witnesses, int) and 0 <= witnesses <= 1_000_000, "witnesses", "a count >= 0")
    if station_area is not None:
        if not isinstance(station_area, StationArea):
            raise ContractError("station_area must be a StationArea", field="station_area")
        area_ambulances = station_area.ambulances
    _need(
        isinstance(area_ambulances, int) and 0 <= area_ambulances <= 100_000,
        "area_ambulances",
        "a count >= 0 (or a station_area)",
    )
    assert area_ambulances is not None  # checked above
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
    if witnesses >= rules.level2_witnesses:
        level2.append(
            f"{witnesses} callers each report several people down within 10 min of one spot: "
            f"independent witnesses of a multi-casualty event (level 2 from "
            f"{rules.level2_witnesses})"
        )
    _ambulance_rules(casualties, area_ambulances, station_area, rules, level2, level3)
    if level3:
        level, why = 3, level3 + level2
    elif level2:
        level, why = 2, level2
        if station_area is not None:
            if station_area.words() not in " ".join(why):
                why.append(f"station area {station_area.words()}")
            why.append(station_area.neighbour_words())
    else:
        level = 1
        why = [
            f"{casualties} casualties estimated, {rate} calls in 10 min, "
            f"{area_ambulances} free ambulances in the station area: below level 2 "
            f"({rules.level2_casualties} casualties, {rules.level2_calls_per_10min} calls "
            "in 10 min, or more casualties than ambulances)"
        ]
        if station_area is not None:
            why.append(f"station area {station_area.words()}")
    return LevelProposal(level, f"{RESPONSE_LEVELS[level]}: " + "; ".join(why))


def _ambulance_rules(
    casualties: int,
    ambulances: int,
    area: StationArea | None,
    rules: MciRules,
    level2: list[str],
    level3: list[str],
) -> None:
    """More casualties than the station area's free ambulances: its neighbours (level 2);
    more than 대응 2단계's stations have (with the area known by road), else more than
    ``level3_ambulance_factor`` times the area's: the city (level 3)."""
    where = "the station area" if area is None else area.words()
    if area is not None:
        reach = ambulances + area.neighbour_ambulances
        if casualties > reach:
            level3.append(
                f"{casualties} casualties exceed the {reach} free ambulances of 대응 2단계's "
                f"stations ({where}; {area.neighbour_words()})"
            )
            return
    elif ambulances and casualties > rules.level3_ambulance_factor * ambulances:
        level3.append(
            f"{casualties} casualties exceed {rules.level3_ambulance_factor:g} x the station "
            f"area's {ambulances} free ambulances"
        )
        return
    if casualties > 0 and ambulances == 0:
        level2.append(f"no free ambulance in {where}")
    elif casualties > ambulances:
        level2.append(
            f"{casualties} casualties exceed the {ambulances} free ambulances of {where}"
            if area is not None
            else f"{casualties} casualties exceed the station area's {ambulances} free ambulances"
        )


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
