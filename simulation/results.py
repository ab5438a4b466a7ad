"""Per-incident outcomes and the per-policy summary (the ``--json`` object of each policy)."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np

TRAVEL_BUDGET_S = 300.0  # 5 min driving
GOLDEN_TIME_S = 420.0  # 7 min from the call to the first unit on scene
FIRE_TYPE = "building_fire"  # the type Seoul's published 7-minute figures are about


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one call under one policy (scenario seconds)."""

    call_id: str
    type: str
    at_s: float
    dispatched_s: float  # when units were sent (after processing, and any wait for a unit)
    first_unit: str
    first_kind: str
    travel_s: float  # driving time of the first unit on scene
    on_scene_s: float  # call -> first unit on scene
    units_sent: int
    queued_s: float = 0.0  # dispatched this long after processing (no free unit / system lag)
    gu: str = ""  # where the call was
    estimated: bool = False  # the place is off the road network: approach-leg estimate


def _pct(flags: list[bool]) -> float:
    return round(100.0 * sum(flags) / len(flags), 2) if flags else 0.0


def _stat(values: list[float], q: float | None = None) -> float | None:
    if not values:
        return None
    return round(float(np.percentile(values, q) if q is not None else np.mean(values)), 1)


def by_gu(
    outcomes: list[Outcome],
    *,
    unserved_gu: Sequence[str] = (),
    off_network_gu: AbstractSet[str] = frozenset(),
) -> dict[str, dict[str, Any]]:
    """Per gu (sorted by name): compliance and response times; unserved calls miss both."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.gu, []).append(o)
    for gu in unserved_gu:
        groups.setdefault(gu, [])
    out: dict[str, dict[str, Any]] = {}
    for gu in sorted(groups):
        mine, missed = groups[gu], [False] * list(unserved_gu).count(gu)
        response = [o.on_scene_s for o in mine]
        out[gu] = {
            "incidents": len(mine) + len(missed),
            "on_scene_within_7min_pct": _pct([r <= GOLDEN_TIME_S for r in response] + missed),
            "travel_within_5min_pct": _pct([o.travel_s <= TRAVEL_BUDGET_S for o in mine] + missed),
            "mean_response_s": _stat(response),
            "p90_response_s": _stat(response, 90),
            "fires": sum(1 for o in mine if o.type == FIRE_TYPE),
            "on_network": gu not in off_network_gu,
        }
    return out


def summarise(
    outcomes: list[Outcome],
    *,
    moveups: int,
    move_backs: int,
    coverage: dict[str, dict[str, float]],
    unserved: int = 0,
    unserved_gu: Sequence[str] = (),
    off_network_gu: AbstractSet[str] = frozenset(),
) -> dict[str, Any]:
    """The figures of one policy; ``unserved`` calls count as missing both budgets."""
    n = len(outcomes) + unserved
    travel = [o.travel_s for o in outcomes]
    response = [o.on_scene_s for o in outcomes]
    by_type: dict[str, dict[str, Any]] = {}
    for kind in sorted({o.type for o in outcomes}):
        mine = [o for o in outcomes if o.type == kind]
        by_type[kind] = {
            "incidents": len(mine),
            "travel_within_5min_pct": _pct([o.travel_s <= TRAVEL_BUDGET_S for o in mine]),
            "on_scene_within_7min_pct": _pct([o.on_scene_s <= GOLDEN_TIME_S for o in mine]),
        }
    return {
        "incidents": n,
        "unserved": unserved,
        "travel_within_5min_pct": _pct([t <= TRAVEL_BUDGET_S for t in travel] + [False] * unserved),
        "on_scene_within_7min_pct": _pct(
            [r <= GOLDEN_TIME_S for r in response] + [False] * unserved
        ),
        "mean_response_s": _stat(response),
        "p90_response_s": _stat(response, 90),
        "mean_travel_s": _stat(travel),
        "p90_travel_s": _stat(travel, 90),
        "dispatch_delayed": sum(1 for o in outcomes if o.queued_s >= 1.0),
        "moveups": moveups,
        "move_backs": move_backs,
        "coverage": coverage,
        "by_type": by_type,
        "fires_on_scene_within_7min_pct": by_type.get(FIRE_TYPE, {}).get(
            "on_scene_within_7min_pct"
        ),
        "estimated_incidents": sum(1 for o in outcomes if o.estimated),
        "by_gu": by_gu(outcomes, unserved_gu=unserved_gu, off_network_gu=off_network_gu),
    }


def window_summary(
    call_times: dict[str, float], outcomes: list[Outcome], *, start_s: float, end_s: float
) -> dict[str, Any]:
    """The figures of the calls made in [start_s, end_s) (``call_times``: call id -> time).

    Calls no unit answered count as missing both budgets. ``travel_within_5min_pct`` counts
    the first unit's driving time only: a call that waited for a free unit shows in
    ``dispatch_delayed`` and ``mean_queued_s`` (over every call) and in the on-scene figure, not
    in travel; ``queued_mean_wait_s`` and ``queued_p90_wait_s`` are the waits of the calls that
    waited (``dispatch_delayed`` of them).
    """
    mine = {c for c, t in call_times.items() if start_s <= t < end_s}
    served = [o for o in outcomes if o.call_id in mine]
    missed = [False] * (len(mine) - len(served))
    queued = [o.queued_s for o in served]
    waits = [q for q in queued if q >= 1.0]  # the calls that waited for a free unit
    return {
        "from_s": start_s,
        "to_s": end_s,
        "incidents": len(mine),
        "unserved": len(missed),
        "travel_within_5min_pct": _pct([o.travel_s <= TRAVEL_BUDGET_S for o in served] + missed),
        "on_scene_within_7min_pct": _pct([o.on_scene_s <= GOLDEN_TIME_S for o in served] + missed),
        "mean_travel_s": _stat([o.travel_s for o in served]),
        "p90_travel_s": _stat([o.travel_s for o in served], 90),
        "dispatch_delayed": sum(1 for q in queued if q >= 1.0),
        "mean_queued_s": _stat(queued),
        "queued_mean_wait_s": _stat(waits),
        "queued_p90_wait_s": _stat(waits, 90),
    }
