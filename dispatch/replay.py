"""A deterministic replay of 119 calls with planted duplicates, for tests and benchmarks.

Real events are placed over a box (the central-Seoul graph area by default, or :data:`SEOUL`,
optionally only where ``within`` says: e.g. inside a gu); each is reported by 1-4 callers.
Callers of one event stand within :data:`CALLER_SPREAD_M` of the event (so any two of them are
within the smallest correlation radius, 100 m for EMS) and call within
:data:`CALLER_WINDOW_S` of each other. Events never correlate with each other: two events
whose correlation windows could overlap are at least :data:`EVENT_SEPARATION_M` apart (more
than the largest radius plus both spreads), and the same place is reused only in a later
*epoch*, :data:`EPOCH_S` after the previous one (more than the longest window). So the expected
grouping is exact: every call belongs to its event's incident and to no other.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dispatch.catalog import Catalog
from dispatch.cells import distance_m
from goldentime.contracts import Call, CallSource, IncidentType
from goldentime.geo import destination, span_degrees

CENTRAL_SEOUL = (37.5442, 37.5891, 126.9499, 127.0066)  # lat min, lat max, lon min, lon max
SEOUL = (37.4260, 37.7010, 126.7650, 127.1840)  # the box around the 25 gu
EVENT_SEPARATION_M = 700.0
CALLER_SPREAD_M = 45.0  # within 60 m of the event; any two callers within 90 m
CALLER_WINDOW_S = 300.0
EPOCH_S = 2 * 3600.0  # longer than the longest correlation window plus the caller window
EVENT_START_SPREAD_S = 1800.0
MAX_CALLERS = 4
SITE_ATTEMPTS = 400
DEFAULT_START = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)

# Each event is of one family; its callers describe it with any type of that family.
FAMILY_TYPES: tuple[tuple[IncidentType, ...], ...] = (
    (IncidentType.BUILDING_FIRE, IncidentType.FIRE, IncidentType.VEHICLE_FIRE),
    (IncidentType.CARDIAC_ARREST, IncidentType.EMS),
    (IncidentType.TRAFFIC_COLLISION,),
    (IncidentType.RESCUE,),
    (IncidentType.HAZMAT,),
    (IncidentType.FLOOD,),
    (IncidentType.STRUCTURE_ALARM,),
    (IncidentType.OTHER,),
)
FAMILY_WEIGHTS = (30, 30, 15, 8, 3, 4, 3, 7)


@dataclass(frozen=True, slots=True)
class Replay:
    """The calls in receiving order and, for each call id, the id of its real event."""

    calls: list[Call]
    event_of: dict[str, str]

    def groups(self) -> set[frozenset[str]]:
        """The expected partition of call ids: one set per real event."""
        by_event: dict[str, set[str]] = {}
        for call_id, event_id in self.event_of.items():
            by_event.setdefault(event_id, set()).add(call_id)
        return {frozenset(ids) for ids in by_event.values()}


def _offset(lat: float, lon: float, *, bearing: float, metres: float) -> tuple[float, float]:
    return destination(lat, lon, bearing_rad=bearing, distance_m=metres)


def _sites(
    rng: random.Random,
    box: tuple[float, float, float, float],
    within: Callable[[float, float], bool] | None = None,
) -> list[tuple[float, float]]:
    """Random points at least EVENT_SEPARATION_M apart (dart throwing), inset by the spread,
    and where ``within`` (lat, lon) holds, if given."""
    lat0, lat1, lon0, lon1 = box
    inset_lat, inset_lon = span_degrees((lat0 + lat1) / 2, CALLER_SPREAD_M)
    sites: list[tuple[float, float]] = []
    for _ in range(SITE_ATTEMPTS):
        point = (
            rng.uniform(lat0 + inset_lat, lat1 - inset_lat),
            rng.uniform(lon0 + inset_lon, lon1 - inset_lon),
        )
        if within is not None and not within(*point):
            continue
        if all(distance_m(*point, *other) >= EVENT_SEPARATION_M for other in sites):
            sites.append(point)
    return sites


def generate_replay(
    n_calls: int,
    *,
    seed: int = 119,
    prefix: str = "rp",
    start: datetime = DEFAULT_START,
    box: tuple[float, float, float, float] = CENTRAL_SEOUL,
    within: Callable[[float, float], bool] | None = None,
    catalog: Catalog | None = None,
) -> Replay:
    """``n_calls`` calls about real events with 1-4 callers each, sorted by receiving time.

    Deterministic for a given ``seed``; ``prefix`` starts every call id (so several replays
    can share one database). ``within(lat, lon)`` keeps events to part of the box (say, inside
    Seoul's gu). With ``catalog``, checks that its radii and windows keep the
    planted events apart and raises ValueError otherwise.
    """
    if n_calls < 1:
        raise ValueError(f"n_calls must be at least 1, got {n_calls}")
    if start.tzinfo is None:
        raise ValueError("start must carry a timezone")
    if catalog is not None:
        _check_catalog(catalog)
    rng = random.Random(seed)
    calls: list[Call] = []
    event_of: dict[str, str] = {}
    epoch = 0
    while len(calls) < n_calls:
        epoch_start = start + timedelta(seconds=epoch * EPOCH_S)
        sites = _sites(rng, box, within)
        if not sites:
            raise ValueError(f"no event site found in {box} where `within` holds")
        for site_no, (lat, lon) in enumerate(sites):
            if len(calls) >= n_calls:
                break
            event_id = f"{prefix}-ev{epoch:03d}-{site_no:02d}"
            family = rng.choices(FAMILY_TYPES, weights=FAMILY_WEIGHTS)[0]
            first_at = epoch_start + timedelta(seconds=rng.uniform(0, EVENT_START_SPREAD_S))
            callers = min(rng.randint(1, MAX_CALLERS), n_calls - len(calls))
            for caller_no in range(callers):
                if caller_no == 0:
                    at, place = first_at, (lat, lon)
                else:
                    at = first_at + timedelta(seconds=rng.uniform(0, CALLER_WINDOW_S))
                    place = _offset(
                        lat,
                        lon,
                        bearing=rng.uniform(0, 2 * math.pi),
                        metres=rng.uniform(0, CALLER_SPREAD_M),
                    )
                call = Call(
                    id=f"{event_id}-c{caller_no}",
                    received_at=at,
                    lat=round(place[0], 7),
                    lon=round(place[1], 7),
                    type=rng.choice(family),
                    caller=f"010-{rng.randrange(10_000):04d}-{rng.randrange(10_000):04d}",
                    description=f"replay {event_id} caller {caller_no + 1}",
                    source=CallSource.SIMULATION,
                )
                calls.append(call)
                event_of[call.id] = event_id
        epoch += 1
    calls.sort(key=lambda c: (c.received_at, c.id))
    return Replay(calls=calls, event_of=event_of)


def _check_catalog(catalog: Catalog) -> None:
    rules = [catalog[t] for t in IncidentType]
    smallest = min(r.radius_m for r in rules)
    largest = max(r.radius_m for r in rules)
    longest = max(r.window_s for r in rules)
    if smallest < 2 * CALLER_SPREAD_M:
        raise ValueError(
            f"callers up to {2 * CALLER_SPREAD_M:.0f} m apart exceed the smallest "
            f"correlation radius ({smallest:.0f} m)"
        )
    if largest >= EVENT_SEPARATION_M - 2 * CALLER_SPREAD_M:
        raise ValueError(
            f"events {EVENT_SEPARATION_M:.0f} m apart could correlate within the largest "
            f"radius ({largest:.0f} m)"
        )
    if longest >= EPOCH_S - EVENT_START_SPREAD_S - CALLER_WINDOW_S:
        raise ValueError(f"epochs {EPOCH_S:.0f} s apart overlap the longest window ({longest} s)")
