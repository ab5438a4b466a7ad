"""Greedy move-up: which idle unit to move to which station to gain the most covered road."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from routing.coverage import MoveUp, seeds_of
from routing.errors import RoutingError
from routing.values import UnitPosition

if TYPE_CHECKING:
    from routing.compiled import IntArray
    from routing.coverage import CoverageModel


def _station_reach(model: CoverageModel, station: UnitPosition) -> IntArray | None:
    """Segments a unit parked at ``station`` would cover alone (None if it cannot snap)."""
    net = model.net
    try:
        start = net.cache.endpoint(station.lat, station.lon, model.vehicle)
    except RoutingError:
        return None
    ws = net.compiled.weights(model.vehicle, "time")
    seeds = seeds_of(start, net.compiled, ws.arc_weights)
    tree = net.compiled.search(ws, seeds, reverse=False, limit=model.limit_s)
    covered = tree.dist[net.compiled.arc_u] + model.weights <= model.limit_s
    found: IntArray = np.unique(model.seg_of_arc[covered])
    return found


def greedy_move_up(
    model: CoverageModel, stations: Sequence[UnitPosition], *, max_moves: int = 1
) -> list[MoveUp]:
    """Up to ``max_moves`` best moves, each applied before choosing the next; model restored."""
    if max_moves < 1:
        raise RoutingError(f"max_moves must be >= 1, got {max_moves}")
    reaches = [(s, _station_reach(model, s)) for s in stations]
    usable = [(s, r) for s, r in reaches if r is not None]
    if not usable:
        raise RoutingError("move-up: no candidate station lies on the road network")
    original = model.snapshot()
    moves: list[MoveUp] = []
    try:
        moved: set[str] = set()
        for _ in range(max_moves):
            best = _best_move(model, usable, moved)
            if best is None:
                break
            moves.append(best)
            moved.add(best.unit_id)
            model.move_unit(best.unit_id, best.to_lat, best.to_lon)
    finally:
        model.restore(original)
    return moves


def _best_move(
    model: CoverageModel,
    stations: list[tuple[UnitPosition, IntArray]],
    moved: set[str],
) -> MoveUp | None:
    total = model.total_length_m
    current = model.covered_length_m
    best: MoveUp | None = None
    for i in np.flatnonzero(model.available):
        unit = model.units[int(i)]
        if unit.unit_id in moved or unit.unit_id in model.unplaced:
            continue
        state = model.snapshot()
        model.set_available(unit.unit_id, False)
        without = model.seg_count > 0
        base = model.covered_length_m
        model.restore(state)
        for station, reach in stations:
            gained = float(model.seg_length[reach[~without[reach]]].sum())
            gain = base + gained - current
            if gain > 0.5 and (best is None or gain > best.gain_m):
                best = MoveUp(
                    unit_id=unit.unit_id,
                    station_id=station.unit_id,
                    station_name=station.name or station.unit_id,
                    to_lat=station.lat,
                    to_lon=station.lon,
                    gain_m=gain,
                    covered_share_before=current / total,
                    covered_share_after=(base + gained) / total,
                )
    return best
