"""The best any policy could do: calls within the travel budget of a unit standing at home.

For a window's calls, the share whose run card could have a unit on the road for at most
``budget_s`` if **every unit were free at its home station** (no unit busy, none moved): the
ceiling of ``travel_within_5min_pct`` for a policy that dispatches from stations. A surge
keeps units busy, so a policy's figure in the surge hours stays below this; a figure close to
it means the policy lost little to the load. ``kinds`` narrows the units counted (e.g. only
ambulances: what an EMS patient needs to be carried).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from dispatch.cells import distance_m
from routing import RoutingError, UnitPosition
from simulation.calls import SimCall
from simulation.results import TRAVEL_BUDGET_S
from simulation.world import World

NEAREST = 6  # units timed one by one when routing ranks none (as `policies.fastest_by_travel`)


def home_positions(world: World, kind: str) -> list[UnitPosition]:
    """One position per station housing ``kind`` (units of a station start together)."""
    return [
        UnitPosition(f"{s.station_id}:{kind}", s.lat, s.lon, vehicle=kind)
        for s in world.stations.values()
        if kind in s.kinds
    ]


def within_from_home(
    world: World,
    calls: Sequence[SimCall],
    *,
    budget_s: float = TRAVEL_BUDGET_S,
    kinds: Iterable[str] | None = None,
) -> float:
    """Percent of ``calls`` a unit of their run card (of ``kinds``) reaches from home in budget."""
    only = set(kinds) if kinds is not None else None
    homes: dict[str, list[UnitPosition]] = {}
    reached = 0
    for call in calls:
        card = [k for k in world.catalog[call.type].run_card if only is None or k in only]
        positions = [p for k in card for p in homes.setdefault(k, home_positions(world, k))]
        if not positions:
            continue
        place = (call.lat, call.lon)
        try:
            etas = world.network.etas(place, positions, cutoff_s=budget_s + 1.0, top_n_routes=0)
            best = min((e.eta_s for e in etas if e.eta_s is not None), default=math.inf)
        except RoutingError:  # every road near is closed to a class: time the nearest ones
            near = sorted(positions, key=lambda p: distance_m(*place, p.lat, p.lon))[:NEAREST]
            best = min(world.travel_s((p.lat, p.lon), place, vehicle=p.vehicle) for p in near)
        reached += best <= budget_s
    return round(100.0 * reached / len(calls), 2) if calls else 0.0
