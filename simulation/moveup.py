"""Move-up decisions for a city-wide fleet: fill the emptied stations that matter most.

routing's `CoverageModel.suggest_move_up` tries every idle unit against every station; on
the Seoul network (117 ambulances, 170 stations, dozens busy at any time) that is ~0.3 s per
decision, and a simulated day takes thousands of decisions. The classical move-up rule is
narrower and is what a control room does: a station whose units are all out leaves a hole;
a neighbour's idle unit stands in when that gains more road than the neighbour's move opens.

One greedy step here:

1. **targets**: the stations of the class with no available unit standing there, ranked by
   the value their reach would add to today's coverage (vectorised over a cached per-station
   reach); the best `max_targets` are kept. The value of a road segment is its length, or (as
   the simulation passes it) the calls a day expected on it: a hole where people live
   counts more than one on an empty expressway;
2. **candidates**: for each target, the `per_target` available units nearest by straight
   line (units already moved in this plan excluded);
3. each candidate's **loss** = coverage drop when it leaves its place (one incremental repair
   and one re-add on the model, exact); the move's gain = loss-free coverage + the target's
   reach over what stays covered - today's coverage; the best move is applied to the model,
   and the next step starts from there.

With lengths as values, the gain is the quantity routing's greedy maximises, over fewer
pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from goldentime.geo import EARTH_RADIUS_M
from routing import CoverageModel, RoadNetwork, RoutingError, UnitPosition

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Move:
    """Move ``unit_id`` to ``station``; ``gain``: the covered value it adds (see `plan_moves`)."""

    unit_id: str
    station: UnitPosition
    gain: float


@dataclass
class StationReach:
    """Segments a unit of one class parked at each station covers alone (cached)."""

    network: RoadNetwork
    vehicle: str
    minutes: float
    _reach: dict[str, IntArray | None] = field(default_factory=dict)

    def of(self, station: UnitPosition) -> IntArray | None:
        if station.unit_id not in self._reach:
            try:
                alone = self.network.coverage([station], minutes=self.minutes, vehicle=self.vehicle)
                found: IntArray | None = np.flatnonzero(alone.seg_count > 0).astype(np.int64)
            except RoutingError:
                found = None
            self._reach[station.unit_id] = found
        return self._reach[station.unit_id]


_M_PER_DEG = math.radians(EARTH_RADIUS_M)  # a degree of the mean-radius sphere (111,195 m)


def _crow_m(lat: float, lon: float, lats: npt.NDArray[np.float64], lons: npt.NDArray[np.float64]
            ) -> npt.NDArray[np.float64]:  # fmt: skip
    """Equirectangular metres from one point to many (enough to rank neighbours)."""
    k = np.cos(np.radians(lat))
    return np.asarray(np.hypot((lats - lat) * _M_PER_DEG, (lons - lon) * _M_PER_DEG * k))


def plan_moves(
    model: CoverageModel,
    stations: Sequence[UnitPosition],
    reach: StationReach,
    *,
    weights: npt.NDArray[np.float64] | None = None,
    max_moves: int = 2,
    max_targets: int = 4,
    per_target: int = 5,
    min_gain: float = 0.0,
) -> list[Move]:
    """Up to ``max_moves`` moves, each applied to ``model`` (see the module doc).

    ``weights``: the value of covering each road segment (default: its length in metres; the
    simulation passes the calls a day expected on it). The model is left with the moves
    applied (the caller orders them); a move gaining ``min_gain`` or less ends the plan.
    """
    value = model.seg_length.astype(np.float64) if weights is None else weights
    moves: list[Move] = []
    moved: set[str] = set()
    for _ in range(max_moves):
        move = _best_move(model, stations, reach, moved, value, max_targets, per_target)
        if move is None or move.gain <= min_gain:
            break
        model.move_unit(move.unit_id, move.station.lat, move.station.lon)
        moves.append(move)
        moved.add(move.unit_id)
    return moves


def _best_move(
    model: CoverageModel,
    stations: Sequence[UnitPosition],
    reach: StationReach,
    moved: set[str],
    value: npt.NDArray[np.float64],
    max_targets: int,
    per_target: int,
) -> Move | None:
    available = np.flatnonzero(model.available)
    units = [model.units[int(i)] for i in available]
    occupied = {(u.lat, u.lon) for u in units}
    covered = model.seg_count > 0
    targets: list[tuple[float, UnitPosition, IntArray]] = []
    for station in stations:
        r = reach.of(station)
        if r is None or (station.lat, station.lon) in occupied:
            continue
        hole = float(value[r[~covered[r]]].sum())
        if hole > 0:
            targets.append((hole, station, r))
    if not targets or not units:
        return None
    targets.sort(key=lambda t: (-t[0], t[1].unit_id))
    targets = targets[:max_targets]
    free = [u for u in units if u.unit_id not in moved and u.unit_id not in model.unplaced]
    if not free:
        return None
    lats = np.array([u.lat for u in free])
    lons = np.array([u.lon for u in free])
    candidates: dict[str, UnitPosition] = {}
    for _hole, station, _r in targets:
        near = np.argsort(_crow_m(station.lat, station.lon, lats, lons), kind="stable")
        for i in near[:per_target]:
            candidates.setdefault(free[int(i)].unit_id, free[int(i)])
    best: Move | None = None
    for unit_id in sorted(candidates):
        model.set_available(unit_id, False)
        without = model.seg_count > 0
        loss = float(value[covered & ~without].sum())  # (no BLAS dot: slow on a busy machine)
        model.set_available(unit_id, True)
        for _hole, station, r in targets:
            gain = float(value[r[~without[r]]].sum()) - loss
            if best is None or gain > best.gain:
                best = Move(unit_id, station, gain)
    return best
