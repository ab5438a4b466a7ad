"""A snapped point as partial arcs: how to leave it (departures) and reach it (arrivals)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.compiled import CompiledGraph, FloatArray, IntArray
from routing.snapping import EdgeIndex, Snap


def partial_cost(fraction: FloatArray | float, weight: FloatArray | float) -> FloatArray:
    """Cost of driving ``fraction`` of an arc: 0 for no part at all, even of a closed arc."""
    fraction = np.asarray(fraction, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        cost: FloatArray = np.where(fraction <= 0.0, 0.0, fraction * weight)
    return cost


@dataclass(frozen=True)
class Anchor:
    """The arcs of a snapped segment and the point's position along each (driving direction)."""

    snap: Snap
    arcs: IntArray
    position: FloatArray  # 0 at the arc's tail, 1 at its head

    @classmethod
    def of(cls, snap: Snap, index: EdgeIndex) -> Anchor:
        """The anchor of ``snap`` on ``index``'s segments."""
        arcs = np.asarray(index.arcs_of_segment(snap.segment), dtype=np.int64)
        forward = index.arc_forward[arcs]
        position = np.where(forward, snap.fraction, 1.0 - snap.fraction)
        return cls(snap=snap, arcs=arcs, position=position)

    def departures(
        self, compiled: CompiledGraph, weights: FloatArray
    ) -> list[tuple[int, float, int]]:
        """(head node, cost to reach it, arc) for each open arc leaving the point."""
        cost = partial_cost(1.0 - self.position, weights[self.arcs])
        return [
            (int(compiled.arc_v[a]), float(c), int(a))
            for a, c in zip(self.arcs, cost, strict=True)
            if np.isfinite(c)
        ]

    def arrivals(
        self, compiled: CompiledGraph, weights: FloatArray
    ) -> list[tuple[int, float, int]]:
        """(tail node, cost from it to the point, arc) for each open arc reaching the point."""
        cost = partial_cost(self.position, weights[self.arcs])
        return [
            (int(compiled.arc_u[a]), float(c), int(a))
            for a, c in zip(self.arcs, cost, strict=True)
            if np.isfinite(c)
        ]


def direct(
    origin: Anchor, destination: Anchor, weights: FloatArray
) -> tuple[float, int, float, float] | None:
    """Cheapest drive along one shared arc from origin to destination: (cost, arc, p0, p1)."""
    best: tuple[float, int, float, float] | None = None
    for arc, p0 in zip(origin.arcs, origin.position, strict=True):
        hits = np.flatnonzero(destination.arcs == arc)
        for h in hits:
            p1 = float(destination.position[h])
            cost = float(partial_cost(p1 - float(p0), float(weights[arc])))
            if p1 >= p0 and np.isfinite(cost) and (best is None or cost < best[0]):
                best = (cost, int(arc), float(p0), p1)
    return best
