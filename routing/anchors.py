"""A snapped point as partial arcs: how to leave it (departures) and reach it (arrivals)."""

from __future__ import annotations

import math
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

    def departure_arrays(self, compiled: CompiledGraph) -> tuple[IntArray, IntArray, FloatArray]:
        """(arc, node reached, share of the arc driven) of every way to leave the point.

        Along each arc of the segment to its head; and, where the point is at an arc's *tail*
        (a snap at the end of a segment: an intersection), from that node itself at no cost, so
        a point at a junction may leave by any road, not only along the snapped one.
        """
        at_tail = (self.position <= 0.0) & (compiled.arc_u[self.arcs] != compiled.arc_v[self.arcs])
        arcs = np.concatenate([self.arcs, self.arcs[at_tail]])
        nodes = np.concatenate([compiled.arc_v[self.arcs], compiled.arc_u[self.arcs[at_tail]]])
        share = np.concatenate([1.0 - self.position, np.zeros(int(at_tail.sum()))])
        return arcs, nodes, share

    def departures(
        self, compiled: CompiledGraph, weights: FloatArray
    ) -> list[tuple[int, float, int]]:
        """(node reached, cost to reach it, arc) for each open way leaving the point.

        The node is the arc's head, or its tail for a point at the tail (see
        `departure_arrays`; `routing.paths.first_part` turns that into a zero-length part).
        """
        arcs, nodes, share = self.departure_arrays(compiled)
        cost = partial_cost(share, weights[arcs])
        return [
            (int(n), float(c), int(a))
            for a, n, c in zip(arcs, nodes, cost, strict=True)
            if np.isfinite(c)
        ]

    def arrivals(
        self, compiled: CompiledGraph, weights: FloatArray
    ) -> list[tuple[int, float, int]]:
        """(node, cost from it to the point, arc) for each open way reaching the point.

        The node is the arc's tail, or its head for a point at the head (an intersection: any
        road into it reaches the point; `routing.paths.last_part` makes that zero-length).
        """
        # Plain Python: a segment has a handful of arcs, and this runs per vehicle class of
        # every ETA query (numpy's per-call overhead would dominate).
        found: list[tuple[int, float, int]] = []
        at_head: list[tuple[int, float, int]] = []
        tails, heads = compiled.arc_u, compiled.arc_v
        for arc, position in zip(self.arcs.tolist(), self.position.tolist(), strict=True):
            tail, head = int(tails[arc]), int(heads[arc])
            cost = 0.0 if position <= 0.0 else position * float(weights[arc])
            if math.isfinite(cost):
                found.append((tail, cost, arc))
            if position >= 1.0 and tail != head:
                at_head.append((head, 0.0, arc))
        return found + at_head


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
