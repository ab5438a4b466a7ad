"""Surge detection: many calls from one spot in minutes are one event, not many incidents.

Pure functions over plain values (no I/O, no clock): the live worker and the simulation call
the same code.

The model is a space-time density. A call is *of an area* when its location circle (the
caller's position and its uncertainty, counted up to ``max_uncertainty_m``) reaches within
``radius_m`` of the area's centre; the centre is the coordinate-wise **median** of the area's
calls (in local metres), found by a few rounds of "take the calls near the centre, move the
centre to their median" from the densest call near the new one. A centre found from a few
calls is itself loose: the radius is widened by the calls' spread over the square root of
their number (at most half the radius), so an edge caller is not lost to the first calls'
side of the alley; with many calls the widening vanishes. A median is not moved by one
caller 2 km off (such a call is not even of the area unless its circle says it may be).

A cluster is a surge when, in the ``window_s`` ending at the new call, it holds

- ``min_calls`` distinct callers (5 in 10 min within 300 m by default), or
- ``burst_calls`` distinct callers within ``burst_window_s`` (3 in 5 min) when at least one
  of them speaks of several people (a number >= 2, "여러 명", "사람들", "인파", "crowd":
  ``dispatch.casualty_words``): a burst of calls from one spot is itself the signal, so the
  3rd crowd call already makes a surge, while three passers-by calling about one man who
  collapsed ("남자가 쓰러졌어요") is not a mass-casualty incident (it still becomes one by the
  first rule if five callers report it), or
- ``corroborated_calls`` distinct callers within ``window_s`` (3 in 10 min) who *each* speak
  of several people: independent witnesses of a multi-casualty event at one spot, however
  slowly they get through (on a crowded night a caller who called back is not a new witness,
  so the 3rd call may be only the 2nd caller and the 3rd witness come minutes later).

Callers are counted once per number (a person who calls back five times is one caller); calls
without a number count each. Only :data:`SURGE_TYPES` take part: what crowd callers report
(falls, breathing, "crowd"). Fire, traffic collisions, hazmat, floods and structure alarms are
ordinary traffic and are never folded into a surge, however close. Calls later than the new
call are left out, so the answer for a call does not depend on what arrived after it (a
replay gives the same answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from dispatch.casualty_words import stated_casualties
from goldentime.contracts import IncidentType
from goldentime.errors import ContractError
from goldentime.geo import LocalProjection, haversine_m

SURGE_TYPES: frozenset[IncidentType] = frozenset(
    {IncidentType.EMS, IncidentType.CARDIAC_ARREST, IncidentType.RESCUE, IncidentType.OTHER}
)

_MAX_ROUNDS = 8  # median iterations; they settle in 2-3 on real clusters
_MAX_SEEDS = 300  # density of at most this many candidates (nearest the call) is computed


@dataclass(frozen=True, slots=True)
class SurgeRules:
    """When calls from one spot make a surge. Defaults fit a crowd crush in alleys.

    - ``window_s``: calls are counted over this window ending at the new call (10 min: the
      rate a control room speaks of, "37 calls in 10 min").
    - ``radius_m``: a few hundred metres of alleys (Itaewon 2022: the calls came from within
      some 300 m of the alley by the Hamilton hotel).
    - ``min_calls``: distinct callers in the window within the radius that make a surge.
    - ``max_uncertainty_m``: a caller's location circle is counted up to this; wider circles
      (a cell-tower fix) are clipped, so a call known only to within 2 km cannot join an area
      2 km away.
    - ``burst_calls`` within ``burst_window_s``: a faster signal, distinct callers in minutes;
      with ``burst_needs_several`` only when one of them speaks of several people.
    - ``corroborated_calls``: distinct callers in the window who each speak of several people
      (three independent witnesses of a multi-casualty event, the window's whole length).
    """

    window_s: float = 600.0
    radius_m: float = 300.0
    min_calls: int = 5
    max_uncertainty_m: float = 300.0
    burst_calls: int = 3
    burst_window_s: float = 300.0
    burst_needs_several: bool = True
    corroborated_calls: int = 3

    def __post_init__(self) -> None:
        _check(60.0 <= self.window_s <= 7_200.0, "window_s", "between 60 and 7200 s")
        _check(20.0 <= self.radius_m <= 5_000.0, "radius_m", "between 20 and 5000 m")
        _check(2 <= self.min_calls <= 1_000, "min_calls", "between 2 and 1000")
        _check(0.0 <= self.max_uncertainty_m <= 5_000.0, "max_uncertainty_m", "0 to 5000 m")
        _check(2 <= self.burst_calls <= self.min_calls, "burst_calls", "2 to min_calls")
        _check(30.0 <= self.burst_window_s <= self.window_s, "burst_window_s", "30 s to window_s")
        _check(
            2 <= self.corroborated_calls <= self.min_calls, "corroborated_calls", "2 to min_calls"
        )


@dataclass(frozen=True, slots=True)
class SurgeCall:
    """What detection needs of a call. ``uncertainty_m``: radius of the caller's location
    circle (None: a precise fix); ``caller``: the calling number (None: unknown)."""

    id: str
    at: datetime
    lat: float
    lon: float
    type: IncidentType
    uncertainty_m: float | None = None
    caller: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class SurgeArea:
    """A surge: where (robust centre and the extent of its calls) and how many calls."""

    lat: float
    lon: float
    radius_m: float  # farthest call position from the centre (positions, not circles)
    call_ids: tuple[str, ...]  # the eligible calls of the area in the window, oldest first
    calls_in_window: int
    window_s: float
    first_at: datetime
    last_at: datetime
    distinct_callers: int = 0  # callers counted once per number
    trigger: str = ""  # which rule made it a surge, in words
    several_callers: int = 0  # distinct callers of the window who speak of several people

    def banner(self, place: str) -> str:
        """The board's banner, e.g. ``"37 calls in 10 min at 이태원동"``."""
        where = place.strip() or f"{self.lat:.4f}, {self.lon:.4f}"
        return f"{self.calls_in_window} calls in {_minutes(self.window_s)} at {where}"

    def distance_m(self, lat: float, lon: float) -> float:
        """Distance of a point from the area's centre, in metres."""
        return _distance(self.lat, self.lon, lat, lon)


def find_surge(
    call: SurgeCall, recent: Sequence[SurgeCall], *, rules: SurgeRules
) -> SurgeArea | None:
    """The surge ``call`` is part of, or None.

    ``recent``: the calls of about the last ``window_s`` near the call, of any type (filtered
    here; ``call`` itself may be among them). A call belongs to an area when its location
    circle reaches within ``radius_m`` of the area's centre: a call 450 m away with a 200 m
    circle can still be of a 300 m area.
    """
    _check_call(call, "call")
    if call.type not in SURGE_TYPES:
        return None
    start = call.at.timestamp() - rules.window_s
    end = call.at.timestamp()
    by_id: dict[str, SurgeCall] = {}
    for index, other in enumerate(recent):
        _check_call(other, f"recent[{index}]")
        if other.id == call.id or other.type not in SURGE_TYPES:
            continue
        if start <= other.at.timestamp() <= end:
            by_id.setdefault(other.id, other)
    by_id[call.id] = call
    calls = list(by_id.values())
    if len(calls) < rules.burst_calls:
        return None
    cluster = _Cluster(call, calls, rules)
    members = cluster.members()
    if members is None:
        return None
    return _as_surge(call, members, cluster, rules)


def surge_reason(area: SurgeArea, *, distance_m: float, place: str) -> str:
    """The link reason of a call joined to a surge's incident, e.g.
    ``"surge: 37 calls in 10 min within 320 m of 이태원동 (312 m from its centre)"``."""
    _check(math.isfinite(distance_m) and distance_m >= 0, "distance_m", "a distance >= 0")
    where = place.strip() or f"{area.lat:.4f}, {area.lon:.4f}"
    reason = (
        f"surge: {area.calls_in_window} calls in {_minutes(area.window_s)} within "
        f"{area.radius_m:.0f} m of {where} ({distance_m:.0f} m from its centre)"
    )
    return f"{reason}; {area.trigger}" if area.trigger else reason


# -- the cluster -----------------------------------------------------------------------------


class _Cluster:
    """The calls near ``call`` in local metres, and the median-centred area they form."""

    def __init__(self, call: SurgeCall, calls: list[SurgeCall], rules: SurgeRules) -> None:
        self.rules = rules
        self.lat0, self.lon0 = call.lat, call.lon
        self.projection = LocalProjection(call.lat, call.lon)
        cap = rules.max_uncertainty_m
        xs, ys = self.projection.project([c.lat for c in calls], [c.lon for c in calls])
        unc = np.minimum(np.array([c.uncertainty_m or 0.0 for c in calls]), cap)
        # Anything that could share an area with the call: both circles and the widest
        # radius (radius_m plus at most half of it for a loose centre) counted.
        reach = 3.0 * rules.radius_m + _uncertainty(call, cap)
        keep = np.flatnonzero(np.hypot(xs, ys) <= reach + unc)
        self.calls: list[SurgeCall] = [calls[i] for i in keep]
        self.xs: NDArray[np.float64] = xs[keep]
        self.ys: NDArray[np.float64] = ys[keep]
        self.unc: NDArray[np.float64] = unc[keep]
        self.own = next(i for i, c in enumerate(self.calls) if c.id == call.id)
        self.centre = (0.0, 0.0)

    def unproject(self, x: float, y: float) -> tuple[float, float]:
        lat, lon = self.projection.unproject(x, y)
        return float(lat), float(lon)

    def distance(self, i: int) -> float:
        return math.hypot(float(self.xs[i]) - self.centre[0], float(self.ys[i]) - self.centre[1])

    def _within(self, centre: tuple[float, float], slack: float = 0.0) -> list[int]:
        gap = np.hypot(self.xs - centre[0], self.ys - centre[1]) - self.unc
        return [int(i) for i in np.flatnonzero(gap <= self.rules.radius_m + slack)]

    def _slack(self, centre: tuple[float, float], members: list[int]) -> float:
        """How far the median centre itself may be off: the members' spread around it over
        the square root of their number (a few calls place the centre loosely), at most half
        the radius."""
        spread = float(
            np.median(np.hypot(self.xs[members] - centre[0], self.ys[members] - centre[1]))
        )
        return min(self.rules.radius_m / 2.0, spread / math.sqrt(len(members)))

    def _settle(self, seed: tuple[float, float]) -> list[int]:
        centre = seed
        members = self._within(centre)
        for _ in range(_MAX_ROUNDS):
            if not members:
                break
            centre = (float(np.median(self.xs[members])), float(np.median(self.ys[members])))
            again = self._within(centre, self._slack(centre, members))
            if again == members:
                break
            members = again
        self.centre = centre
        return members

    def _densest(self) -> tuple[float, float]:
        """The candidate position with most calls whose circles reach within the radius of it
        (ties: nearest the call): a medoid-like seed inside the dense part."""
        order = np.argsort(np.hypot(self.xs, self.ys), kind="stable")[:_MAX_SEEDS]
        gaps = (
            np.hypot(
                self.xs[order, None] - self.xs[None, :], self.ys[order, None] - self.ys[None, :]
            )
            - self.unc[None, :]
        )
        scores = np.count_nonzero(gaps <= self.rules.radius_m, axis=1)
        best = int(order[int(np.argmax(scores))])  # the first maximum: the nearest the call
        return float(self.xs[best]), float(self.ys[best])

    def members(self) -> list[int] | None:
        """Indices of the area's calls when the call is one of them and they make a surge."""
        own = (float(self.xs[self.own]), float(self.ys[self.own]))
        for seed in (self._densest(), own):
            members = self._settle(seed)
            if self.own in members and self.trigger(members):
                return members
        return None

    def trigger(self, members: list[int]) -> str:
        """Why the members make a surge ("" when they do not). The burst rule looks at every
        ``burst_window_s`` stretch of the window, so a surge found at one call stays one for
        the next calls of the area while its burst is within the window."""
        rules = self.rules
        callers = _distinct([self.calls[i] for i in members])
        if callers >= rules.min_calls:
            return (
                f"{callers} callers within {_minutes(rules.window_s)} "
                f"(surge from {rules.min_calls})"
            )
        timeline = sorted((self.calls[i] for i in members), key=lambda c: c.at)
        words = [_several(c) if rules.burst_needs_several else "-" for c in timeline]
        burst, several = 0, ""
        for first, start in enumerate(timeline):
            limit = start.at.timestamp() + rules.burst_window_s
            last = first
            while last + 1 < len(timeline) and timeline[last + 1].at.timestamp() <= limit:
                last += 1
            spoken = next((w for w in words[first : last + 1] if w), "")
            callers = _distinct(timeline[first : last + 1])
            if spoken and callers > burst:
                burst, several = callers, spoken
        if burst >= rules.burst_calls:
            spoken = f", '{several}'" if rules.burst_needs_several else ""
            return (
                f"{burst} callers within {_minutes(rules.burst_window_s)}{spoken} "
                f"(burst from {rules.burst_calls})"
            )
        witnesses = _witnesses(timeline)
        if len(witnesses) >= rules.corroborated_calls:
            said = ", ".join(f"'{w}'" for w in list(dict.fromkeys(witnesses.values()))[:3])
            return (
                f"{len(witnesses)} callers within {_minutes(rules.window_s)} each speak of "
                f"several people ({said}; corroborated from {rules.corroborated_calls})"
            )
        return ""


def _as_surge(
    call: SurgeCall, members: list[int], cluster: _Cluster, rules: SurgeRules
) -> SurgeArea:
    cx, cy = cluster.centre
    lat, lon = cluster.unproject(cx, cy)
    chosen = sorted((cluster.calls[i] for i in members), key=lambda c: (c.at, c.id))
    extent = max(cluster.distance(i) for i in members)
    return SurgeArea(
        lat=lat,
        lon=lon,
        radius_m=round(extent, 1),
        call_ids=tuple(c.id for c in chosen),
        calls_in_window=len(chosen),
        window_s=rules.window_s,
        first_at=chosen[0].at,
        last_at=chosen[-1].at,
        distinct_callers=_distinct(chosen),
        trigger=cluster.trigger(members),
        several_callers=len(_witnesses(chosen)),
    )


# -- helpers ---------------------------------------------------------------------------------


def _distinct(calls: Sequence[SurgeCall]) -> int:
    numbers = {c.caller.strip() for c in calls if c.caller and c.caller.strip()}
    unknown = sum(1 for c in calls if not (c.caller and c.caller.strip()))
    return len(numbers) + unknown


def _witnesses(calls: Sequence[SurgeCall]) -> dict[str, str]:
    """Distinct callers (by number; a call without one is its own caller) who speak of several
    people, with the words of their first such call."""
    out: dict[str, str] = {}
    for call in sorted(calls, key=lambda c: (c.at, c.id)):
        said = _several(call)
        number = (call.caller or "").strip() or f"call:{call.id}"
        if said and number not in out:
            out[number] = said
    return out


def _several(call: SurgeCall) -> str:
    """The call's words when it speaks of several people ("" when it does not)."""
    stated = stated_casualties(call.description)
    return stated[1] if stated is not None and stated[0] >= 2 else ""


def _uncertainty(call: SurgeCall, cap: float) -> float:
    return min(call.uncertainty_m or 0.0, cap)


def _minutes(seconds: float) -> str:
    minutes = seconds / 60.0
    return f"{minutes:.0f} min" if minutes == round(minutes) else f"{minutes:.1f} min"


_distance = haversine_m


def _check(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise ContractError(f"{field} must be {expected}", field=field)


def _check_call(call: SurgeCall, where: str) -> None:
    if not isinstance(call.type, IncidentType):
        raise ContractError(f"{where}.type must be an IncidentType", field=f"{where}.type")
    if not call.id:
        raise ContractError(f"{where}.id must not be empty", field=f"{where}.id")
    if call.at.tzinfo is None or call.at.utcoffset() is None:
        raise ContractError(f"{where}.at must carry its time zone", field=f"{where}.at")
    if not (math.isfinite(call.lat) and -90.0 <= call.lat <= 90.0):
        raise ContractError(f"{where}.lat must be a latitude", field=f"{where}.lat")
    if not (math.isfinite(call.lon) and -180.0 <= call.lon <= 180.0):
        raise ContractError(f"{where}.lon must be a longitude", field=f"{where}.lon")
    u = call.uncertainty_m
    if u is not None and not (math.isfinite(u) and u >= 0):
        raise ContractError(
            f"{where}.uncertainty_m must be >= 0 metres", field=f"{where}.uncertainty_m"
        )
