"""All units' ETAs to one incident: cached unit anchors, a vectorised tree lookup, ranking.

Units rarely move, so a `UnitBatch` (every unit's snap anchor, flattened into numpy arrays per
vehicle class, plus the sort keys) is built once per unit list and reused until the effective
weights change (a closure or restriction can change where a unit snaps). Per query, each
vehicle group's ETAs are one fancy-indexed lookup in the reverse search tree; `UnitEta`
objects are only made for the ranked result. Distances and top-N routes stay lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from routing.anchors import Anchor, direct
from routing.compiled import FloatArray, IntArray
from routing.errors import RoutingError
from routing.model import Route, UnitEta, UnitPosition
from routing.paths import assemble_route, path_length

if TYPE_CHECKING:
    from routing.network import RoadNetwork

BatchKey = tuple[tuple[str, float, float, str], ...]
# How a unit's path is rebuilt on demand: ("tree", tree, weights, arrivals) or ("direct", parts).
Plan = tuple[Any, ...]


def batch_key(units: Sequence[UnitPosition]) -> BatchKey:
    """What a `UnitBatch` depends on: each unit's id, position and vehicle class, in order."""
    return tuple((u.unit_id, u.lat, u.lon, u.vehicle) for u in units)


@dataclass(frozen=True)
class VehicleGroup:
    """The units of one vehicle class, their anchors flattened arc by arc."""

    vehicle: str
    members: list[int]  # indices into the unit list, in input order
    anchors: list[Anchor | None]  # per member; None when it could not be snapped
    notes: list[str | None]  # per member: why it could not be snapped
    snapped: IntArray  # member positions that have an anchor
    starts: IntArray  # offset of each snapped member's first arc in ``arcs``
    owner: IntArray  # member position of each arc below
    arcs: IntArray  # every arc of every snapped member's segment
    heads: IntArray  # head node of each arc (where leaving the unit along it ends)
    leave: FloatArray  # fraction of each arc still to drive from the unit
    at_head: npt.NDArray[np.bool_]  # nothing left to drive: costs 0 even on a closed arc

    @classmethod
    def build(
        cls,
        vehicle: str,
        members: list[int],
        units: Sequence[UnitPosition],
        anchor_of: Callable[[float, float, str], Anchor],
        arc_v: IntArray,
    ) -> VehicleGroup:
        """Snap each member (errors become notes) and flatten the anchors."""
        anchors: list[Anchor | None] = []
        notes: list[str | None] = []
        for i in members:
            try:
                anchors.append(anchor_of(units[i].lat, units[i].lon, vehicle))
                notes.append(None)
            except RoutingError as err:
                anchors.append(None)
                notes.append(str(err))
        snapped = [m for m, a in enumerate(anchors) if a is not None]
        found = [a for a in anchors if a is not None]
        sizes = np.array([a.arcs.size for a in found], dtype=np.int64)
        arcs = np.concatenate([a.arcs for a in found]) if found else np.zeros(0, np.int64)
        position = np.concatenate([a.position for a in found]) if found else np.zeros(0)
        leave = 1.0 - position
        return cls(
            vehicle=vehicle,
            members=members,
            anchors=anchors,
            notes=notes,
            snapped=np.asarray(snapped, dtype=np.int64),
            starts=np.cumsum(sizes) - sizes,
            owner=np.repeat(np.asarray(snapped, dtype=np.int64), sizes),
            arcs=arcs,
            heads=arc_v[arcs],
            leave=leave,
            at_head=leave <= 0.0,
        )

    def lookup(
        self, target: Anchor, weights: FloatArray, dist: FloatArray
    ) -> tuple[FloatArray, dict[int, Plan]]:
        """Each member's ETA (inf: unsnapped/unreachable) and the direct-drive plans.

        A member's ETA is its best departure arc: the rest of that arc plus the tree's time
        from the arc's head. A member on the incident's own road may drive straight there.
        """
        best = np.full(len(self.members), np.inf)
        if self.arcs.size:
            cost = weights[self.arcs]  # a copy
            cost[self.at_head] = 0.0
            totals = self.leave * cost + dist[self.heads]
            best[self.snapped] = np.minimum.reduceat(totals, self.starts)
        plans: dict[int, Plan] = {}
        shared = (self.arcs[:, None] == target.arcs[None, :]).any(axis=1)
        if shared.any():
            for m in np.unique(self.owner[shared]).tolist():
                anchor = self.anchors[m]
                shortcut = direct(anchor, target, weights) if anchor is not None else None
                if shortcut is not None and shortcut[0] <= best[m]:
                    best[m] = shortcut[0]
                    plans[m] = ("direct", [shortcut[1:]])
        return best, plans


@dataclass(frozen=True)
class UnitBatch:
    """A unit list's groups by vehicle class, per-unit lookups and ranking tie-breakers."""

    groups: list[VehicleGroup]
    group_of: list[int]  # per unit: index of its group
    member_of: list[int]  # per unit: position within its group
    anchors: list[Anchor | None]  # per unit
    notes: list[str | None]  # per unit: why it could not be snapped
    id_rank: IntArray  # per unit: rank of its unit_id among the sorted ids
    group_order: IntArray  # per unit: position when the groups are laid end to end
    by_id: IntArray  # units sorted by (unit_id, group_order): the order of unreached units

    @classmethod
    def build(
        cls,
        units: Sequence[UnitPosition],
        anchor_of: Callable[[float, float, str], Anchor],
        arc_v: IntArray,
    ) -> UnitBatch:
        """Group units by vehicle class (first appearance order) and snap them."""
        by_vehicle: dict[str, list[int]] = {}
        for i, unit in enumerate(units):
            by_vehicle.setdefault(unit.vehicle, []).append(i)
        groups = [
            VehicleGroup.build(vehicle, members, units, anchor_of, arc_v)
            for vehicle, members in by_vehicle.items()
        ]
        n = len(units)
        group_of, member_of = [0] * n, [0] * n
        anchors: list[Anchor | None] = [None] * n
        notes: list[str | None] = [None] * n
        laid_out: list[int] = []
        for g, group in enumerate(groups):
            for m, i in enumerate(group.members):
                group_of[i], member_of[i] = g, m
                anchors[i], notes[i] = group.anchors[m], group.notes[m]
            laid_out.extend(group.members)
        group_order = np.empty(n, dtype=np.int64)
        group_order[laid_out] = np.arange(n)
        ids = {unit_id: r for r, unit_id in enumerate(sorted({u.unit_id for u in units}))}
        id_rank = np.fromiter((ids[u.unit_id] for u in units), dtype=np.int64, count=n)
        by_id = np.lexsort((group_order, id_rank))
        return cls(groups, group_of, member_of, anchors, notes, id_rank, group_order, by_id)


@dataclass(frozen=True)
class GroupTree:
    """One vehicle group's search from the incident and what its units' paths need."""

    target: Anchor
    tree_plan: Plan
    plans: dict[int, Plan]  # direct drives by member position


def rank_etas(
    net: RoadNetwork,
    units: Sequence[UnitPosition],
    batch: UnitBatch,
    found: tuple[FloatArray, list[GroupTree]],
    *,
    cutoff_s: float,
    top_n_routes: int,
    incident: tuple[float, float],
) -> list[UnitEta]:
    """Sort by ETA (beyond the cutoff or unreachable last, then by unit id); lazy paths."""
    etas, trees = found
    reached = etas <= cutoff_s
    first = np.flatnonzero(reached)
    first = first[np.lexsort((batch.group_order[first], batch.id_rank[first], etas[first]))]
    order = np.concatenate([first, batch.by_id[~reached[batch.by_id]]])
    values = etas.tolist()
    beyond = f"not reachable within the cutoff ({cutoff_s:.0f} s)"
    result: list[UnitEta] = []
    for rank, i in enumerate(order.tolist(), start=1):
        unit, eta = units[i], values[i]
        # Positional UnitEta(unit_id, eta_s, vehicle, rank, note, _path_length, _route): half
        # the cost of keywords, which matters for 100+ units per query.
        if eta > cutoff_s:
            result.append(UnitEta(unit.unit_id, None, unit.vehicle, rank, batch.notes[i] or beyond))
            continue
        start, tree = batch.anchors[i], trees[batch.group_of[i]]
        plan = tree.plans.get(batch.member_of[i], tree.tree_plan)
        distance = partial(_distance, net, start, tree.target, plan)
        route = (
            partial(_route, net, unit, start, tree.target, plan, incident)
            if rank <= top_n_routes
            else None
        )
        result.append(UnitEta(unit.unit_id, eta, unit.vehicle, rank, None, distance, route))
    return result


def _distance(net: RoadNetwork, start: Anchor, target: Anchor, plan: Plan) -> float:
    return path_length(net, net.path_parts(start, target, plan))


def _route(
    net: RoadNetwork,
    unit: UnitPosition,
    start: Anchor,
    target: Anchor,
    plan: Plan,
    incident: tuple[float, float],
) -> Route:
    return assemble_route(
        net, net.path_parts(start, target, plan), vehicle=unit.vehicle, metric="time",
        origin=(unit.lat, unit.lon), destination=incident, snaps=(start.snap, target.snap),
    )  # fmt: skip
