"""The declared-surge operating mode (대응 단계 발령): how a control room dispatches in a surge.

On an ordinary night a unit is handed a new call when it is back at its station, and calls that
wait for a unit are served first come, first served. Once a surge is declared, a Korean control
centre runs differently, and the simulation's engine (`simulation.engine.Simulation`) does the
same for **every policy alike** when the scenario's ``[surge] operating_mode = "declared"``:

1. **Dispatchable when it clears.** A unit reports clear as it leaves the hospital (handover
   done) or the scene, and is available from then on, *from where it is on the way home*: a
   control room with vehicle locations (AVL) sends the crew that just cleared at the hospital
   to the call next door instead of letting it drive 20 min home first and then 20 min back.
   Its position is modelled simply: the point on the straight line from where it cleared to
   its station at the elapsed share of the drive (`position_en_route`), snapped to the road
   network by the routing like any unit position. Coverage counts it at its station from the
   moment it clears (as a unit ordered to a move-up post counts at its post), since that is
   where it is heading. A unit that is not sent reaches its station as before.
2. **Nearest waiting call first, with a bound.** When a unit becomes free it takes, among the
   waiting calls its kind can serve, the one it reaches fastest (by road from where it is:
   the `NEAREST_CANDIDATES` nearest by straight line are timed): with a queue of hundreds of
   calls, first come first served sends each freed ambulance across the city, and every
   call's wait grows by that drive. Any call waiting longer than ``queue_bound_s`` (default
   20 min) goes first, oldest first, so no call starves because it is far from where the units
   clear.

The mode holds from the surge's first second until its last and after that for as long as calls
still wait (the level is lifted when the backlog is cleared). Everything else (the policies'
choices, run cards, move-ups, first responders, reserves) is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.cells import distance_m
from simulation.calls import SimCall
from simulation.errors import SimulationError
from simulation.world import World

NEAREST_CANDIDATES = 8  # waiting calls nearest by straight line, timed by road
QUEUE_BOUND_S = 1200.0  # a call waiting longer than this goes first (20 min)

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class DeclaredMode:
    """The declared-surge rules of one run (see the module doc); scenario seconds."""

    start_s: float
    end_s: float
    queue_bound_s: float = QUEUE_BOUND_S
    dispatch_on_clear: bool = True
    nearest_waiting_first: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_s < self.end_s:
            raise SimulationError(
                f"declared surge window [{self.start_s}, {self.end_s}) must be ordered, >= 0"
            )
        if self.queue_bound_s <= 0:
            raise SimulationError(f"queue_bound_s must be > 0, got {self.queue_bound_s}")

    def active(self, t: float, *, backlog: bool) -> bool:
        """Declared at ``t``: in the surge, or after it while calls still wait (``backlog``)."""
        return t >= self.start_s and (t < self.end_s or backlog)


@dataclass(frozen=True, slots=True)
class Homing:
    """A cleared unit driving home: from ``place`` at ``leave_s``, home at ``home_s``."""

    place: Point
    home: Point
    leave_s: float
    home_s: float
    seq: int  # matches the home-arrival event still due


def position_en_route(homing: Homing, t: float) -> Point:
    """Where a homing unit is at ``t``: the straight line's point at the drive's elapsed share."""
    span = homing.home_s - homing.leave_s
    share = 1.0 if span <= 0 else min(1.0, max(0.0, (t - homing.leave_s) / span))
    (lat0, lon0), (lat1, lon1) = homing.place, homing.home
    return lat0 + share * (lat1 - lat0), lon0 + share * (lon1 - lon0)


def waited_s(call: SimCall, t: float) -> float:
    """How long ``call`` has waited for a unit at ``t`` (from its decision)."""
    return t - call.at_s - call.processing_s


def next_waiting_call(
    world: World,
    waiting: Sequence[SimCall],
    *,
    kind: str,
    position: Point,
    t: float,
    bound_s: float,
) -> SimCall | None:
    """The waiting call a freed unit of ``kind`` at ``position`` takes under the rule: the
    oldest of those waiting longer than ``bound_s``, else the one it reaches fastest by road;
    None when no waiting call has ``kind`` on its run card."""
    servable = [c for c in waiting if kind in world.catalog[c.type].run_card]
    if not servable:
        return None
    overdue = [c for c in servable if waited_s(c, t) > bound_s]
    if overdue:
        return min(overdue, key=lambda c: (c.at_s + c.processing_s, c.call_id))
    near = sorted(servable, key=lambda c: (distance_m(*position, c.lat, c.lon), c.call_id))[
        :NEAREST_CANDIDATES
    ]
    etas = world.network.etas_from(position, [(c.lat, c.lon) for c in near], vehicle=kind)
    speed = world.service.fallback_speed_mps

    def drive(item: tuple[SimCall, float | None]) -> tuple[float, str]:
        call, eta = item
        time_s = eta if eta is not None else distance_m(*position, call.lat, call.lon) / speed
        return time_s, call.call_id

    return min(zip(near, etas, strict=True), key=drive)[0]
