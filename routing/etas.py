"""All units' ETAs to one incident: cached unit anchors, a vectorised tree lookup, ranking.

Units rarely move, so a `UnitBatch` (every unit's snap anchor, or for a unit off the graph its
approach leg's entry nodes and times (routing.approach_legs), flattened into numpy arrays per
vehicle class, plus the sort keys) is built once per unit list and reused until the effective
weights change (a closure or restriction can change where a unit snaps). Per query, each
vehicle group's ETAs are one fancy-indexed lookup in the reverse search tree; `UnitEta`
objects are only made for the ranked result. Distances and top-N routes stay lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from routing.anchors import Anchor, direct
from routing.approach_legs import Approach
from routing.compiled import CompiledGraph, FloatArray, IntArray
from routing.errors import RoutingError
from routing.paths import (
    Leg,
    PathPart,
    assemble_route,
    path_length,
    tree_from_node,
    tree_to_point,
)
from routing.values import Route, UnitEta, UnitPosition

if TYPE_CHECKING:
    from routing.network_parts import NetworkParts

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
    heads: IntArray  # node each way out reaches (the arc's head; its tail for a unit at it)
    leave: FloatArray  # fraction of each arc still to drive from the unit (0: at the node)
    at_head: npt.NDArray[np.bool_]  # nothing left to drive: costs 0 even on a closed arc
    approaches: list[Approach | None]  # per member: its approach leg when off the graph
    approached: IntArray  # member positions that are off the graph (with an approach)
    entry_starts: IntArray  # offset of each approached member's first entry below
    entry_nodes: IntArray  # every entry node of every approached member
    entry_cost: FloatArray  # approach seconds to each entry node
    memo: dict[str, Any] = field(default_factory=dict)  # per-weights derived arrays

    @classmethod
    def build(
        cls,
        vehicle: str,
        members: list[int],
        units: Sequence[UnitPosition],
        endpoint_of: Callable[[float, float, str], Anchor | Approach],
        compiled: CompiledGraph,
    ) -> VehicleGroup:
        """Snap each member or give it an approach leg (errors become notes); flatten both."""
        starts: list[Anchor | Approach | None] = []
        notes: list[str | None] = []
        for i in members:
            try:
                start = endpoint_of(units[i].lat, units[i].lon, vehicle)
            except RoutingError as err:
                starts.append(None)
                notes.append(str(err))
                continue
            starts.append(start)
            notes.append(start.note if isinstance(start, Approach) else None)
        anchors = [a if isinstance(a, Anchor) else None for a in starts]
        snapped = [m for m, a in enumerate(anchors) if a is not None]
        found = [a for a in anchors if a is not None]
        ways = [a.departure_arrays(compiled) for a in found]
        sizes = np.array([w[0].size for w in ways], dtype=np.int64)
        arcs = np.concatenate([w[0] for w in ways]) if ways else np.zeros(0, np.int64)
        heads = np.concatenate([w[1] for w in ways]) if ways else np.zeros(0, np.int64)
        leave = np.concatenate([w[2] for w in ways]) if ways else np.zeros(0)
        outside = [m for m, a in enumerate(starts) if isinstance(a, Approach)]
        legs = [a for a in starts if isinstance(a, Approach)]
        leg_sizes = np.array([a.nodes.size for a in legs], dtype=np.int64)
        return cls(
            vehicle=vehicle,
            members=members,
            anchors=anchors,
            notes=notes,
            snapped=np.asarray(snapped, dtype=np.int64),
            starts=np.cumsum(sizes) - sizes,
            owner=np.repeat(np.asarray(snapped, dtype=np.int64), sizes),
            arcs=arcs,
            heads=heads,
            leave=leave,
            at_head=leave <= 0.0,
            approaches=[a if isinstance(a, Approach) else None for a in starts],
            approached=np.asarray(outside, dtype=np.int64),
            entry_starts=np.cumsum(leg_sizes) - leg_sizes,
            entry_nodes=np.concatenate([a.nodes for a in legs]) if legs else np.zeros(0, np.int64),
            entry_cost=np.concatenate([a.seconds for a in legs]) if legs else np.zeros(0),
        )

    def _departure_cost(self, weights: FloatArray) -> FloatArray:
        """Per flattened arc, the cost to drive the rest of it (0 at its head), memoised.

        The group lives in a `UnitBatch`, which the network drops whenever the weights change,
        so the cost is computed once per unit list and weight version.
        """
        found: FloatArray | None = self.memo.get("departure_cost")
        if found is None:
            cost = weights[self.arcs]  # a copy
            cost[self.at_head] = 0.0
            found = self.memo["departure_cost"] = self.leave * cost
        return found

    def _owners_by_arc(self) -> dict[int, tuple[int, ...]]:
        """Arc -> the member positions whose departures include it (for direct drives)."""
        found: dict[int, tuple[int, ...]] | None = self.memo.get("owners")
        if found is None:
            found = {}
            for arc, owner in zip(self.arcs.tolist(), self.owner.tolist(), strict=True):
                found[arc] = (*found.get(arc, ()), owner)
            self.memo["owners"] = found
        return found

    def lookup(
        self,
        target: Anchor | Approach,
        weights: FloatArray,
        dist: FloatArray,
        *,
        outside_s: Callable[[Approach, Approach, str], float] | None = None,
    ) -> tuple[FloatArray, dict[int, Plan]]:
        """Each member's ETA (inf: unsnapped/unreachable) and the direct-drive plans.

        A member's ETA is its best departure arc: the rest of that arc plus the tree's time
        from the arc's head. A member on the incident's own road may drive straight there. A
        member off the graph takes its best entry: approach time + the tree's time from there.

        An incident off the graph (``target`` an `Approach`: the tree was searched from its
        entry nodes, their leg times included): a member off the graph too drives one straight
        estimated leg, ``outside_s(member, incident, vehicle)`` seconds (as `RoadNetwork.route`
        does when both ends are off the graph).
        """
        best = np.full(len(self.members), np.inf)
        if self.arcs.size:
            totals = self._departure_cost(weights) + dist[self.heads]
            best[self.snapped] = np.minimum.reduceat(totals, self.starts)
        if self.entry_nodes.size:
            via = self.entry_cost + dist[self.entry_nodes]
            best[self.approached] = np.minimum.reduceat(via, self.entry_starts)
        plans: dict[int, Plan] = {}
        if isinstance(target, Approach):
            for m in self.approached.tolist():
                leg = self.approaches[m]
                if leg is not None and outside_s is not None:
                    best[m] = outside_s(leg, target, self.vehicle)
            return best, plans
        owners = self._owners_by_arc()
        shared = {m for arc in target.arcs.tolist() for m in owners.get(arc, ())}
        if shared:
            for m in sorted(shared):
                anchor = self.anchors[m]
                shortcut = direct(anchor, target, weights) if anchor is not None else None
                if shortcut is not None and shortcut[0] <= best[m]:
                    best[m] = shortcut[0]
                    plans[m] = ("direct", [shortcut[1:]])
        return best, plans


_TAIL_ROWS_MAX = 64  # shared tail rows per unit batch (more units reached: built per query)


@dataclass(frozen=True)
class UnitBatch:
    """A unit list's groups by vehicle class, per-unit lookups and ranking tie-breakers."""

    groups: list[VehicleGroup]
    group_of: list[int]  # per unit: index of its group
    member_of: list[int]  # per unit: position within its group
    starts: list[Anchor | Approach | None]  # per unit: its snap, its approach leg, or None
    notes: list[str | None]  # per unit: why it could not be snapped, or its approach note
    id_rank: IntArray  # per unit: rank of its unit_id among the sorted ids
    group_order: IntArray  # per unit: position when the groups are laid end to end
    by_id: IntArray  # units sorted by (unit_id, group_order): the order of unreached units
    # Entries of the units beyond the cutoff, by rank offset and note (see `_tail`).
    tail_rows: dict[tuple[int, str], list[UnitEta]] = field(default_factory=dict, compare=False)

    @classmethod
    def build(
        cls,
        units: Sequence[UnitPosition],
        endpoint_of: Callable[[float, float, str], Anchor | Approach],
        compiled: CompiledGraph,
    ) -> UnitBatch:
        """Group units by vehicle class (first appearance order) and snap/approach them."""
        by_vehicle: dict[str, list[int]] = {}
        for i, unit in enumerate(units):
            by_vehicle.setdefault(unit.vehicle, []).append(i)
        groups = [
            VehicleGroup.build(vehicle, members, units, endpoint_of, compiled)
            for vehicle, members in by_vehicle.items()
        ]
        n = len(units)
        group_of, member_of = [0] * n, [0] * n
        starts: list[Anchor | Approach | None] = [None] * n
        notes: list[str | None] = [None] * n
        laid_out: list[int] = []
        for g, group in enumerate(groups):
            for m, i in enumerate(group.members):
                group_of[i], member_of[i] = g, m
                starts[i] = group.anchors[m] or group.approaches[m]
                notes[i] = group.notes[m]
            laid_out.extend(group.members)
        group_order = np.empty(n, dtype=np.int64)
        group_order[laid_out] = np.arange(n)
        ids = {unit_id: r for r, unit_id in enumerate(sorted({u.unit_id for u in units}))}
        id_rank = np.fromiter((ids[u.unit_id] for u in units), dtype=np.int64, count=n)
        by_id = np.lexsort((group_order, id_rank))
        return cls(groups, group_of, member_of, starts, notes, id_rank, group_order, by_id)


@dataclass(frozen=True)
class GroupTree:
    """One vehicle group's search from the incident and what its units' paths need."""

    target: Anchor | Approach  # an Approach: the incident is off the graph
    tree_plan: Plan
    plans: dict[int, Plan]  # direct drives by member position


def rank_etas(
    net: NetworkParts,
    units: Sequence[UnitPosition],
    batch: UnitBatch,
    found: tuple[FloatArray, list[GroupTree | None]],
    *,
    cutoff_s: float,
    top_n_routes: int,
    incident: tuple[float, float],
    failed: Mapping[int, str] | None = None,
) -> list[UnitEta]:
    """Sort by ETA (beyond the cutoff or unreachable last, then by unit id); lazy paths.

    ``failed``: groups (by index) that could not meet the incident, with the reason their
    units carry instead of an ETA.
    """
    etas, trees = found
    reached = etas <= cutoff_s
    first = np.flatnonzero(reached)
    first = first[np.lexsort((batch.group_order[first], batch.id_rank[first], etas[first]))]
    values = etas.tolist()
    beyond = f"not reachable within the cutoff ({cutoff_s:.0f} s)"
    result: list[UnitEta] = []
    for rank, i in enumerate(first.tolist(), start=1):
        unit, eta = units[i], values[i]
        # Positional UnitEta(unit_id, eta_s, vehicle, rank, note, _path_length, _route): half
        # the cost of keywords, which matters for 100+ units per query.
        start, tree = batch.starts[i], trees[batch.group_of[i]]
        if start is None or tree is None:  # cannot happen: such a unit has an infinite ETA
            raise AssertionError(f"unit {unit.unit_id} reached without a start or a search")
        path: _LazyPath | _RoutedPath
        if isinstance(tree.target, Approach):
            path = _RoutedPath(net, unit, incident)
            note = tree.target.note if batch.notes[i] is None else batch.notes[i]
        else:
            plan = tree.plans.get(batch.member_of[i], tree.tree_plan)
            path = _LazyPath(net, unit, start, tree.target, plan, incident)
            note = batch.notes[i]  # None, or the approach note of a unit off the graph
        route = path.route if rank <= top_n_routes else None
        distance = path.distance
        result.append(UnitEta(unit.unit_id, eta, unit.vehicle, rank, note, distance, route))
    # Beyond the cutoff (most units of a whole city for one incident): by unit id.
    if not failed and len(result) <= _TAIL_ROWS_MAX:
        result.extend(_tail(batch, units, reached, len(result), beyond))
        return result
    notes, group_of = batch.notes, batch.group_of
    rest = batch.by_id[~reached[batch.by_id]].tolist()
    for rank, i in enumerate(rest, start=len(result) + 1):
        note = (failed.get(group_of[i]) if failed else None) or notes[i] or beyond
        result.append(UnitEta(units[i].unit_id, None, units[i].vehicle, rank, note))
    return result


def _tail(
    batch: UnitBatch,
    units: Sequence[UnitPosition],
    reached: npt.NDArray[np.bool_],
    ranked: int,
    beyond: str,
) -> list[UnitEta]:
    """The entries of the units not reached, in unit-id order, ranked from ``ranked + 1``.

    They carry no path, so they are immutable and shared between queries of the same fleet:
    a unit at position ``p`` of the id order, with ``j`` reached units before it, has rank
    ``(ranked - j) + 1 + p``, the entry at ``p`` of the row kept for offset ``ranked - j``.
    The answer is a few list slices instead of hundreds of new objects per query.
    """
    rows = batch.tail_rows
    if len(rows) > _TAIL_ROWS_MAX + 1:  # another cutoff note: start again
        rows.clear()
    order = batch.by_id
    skipped = np.flatnonzero(reached[order]).tolist()
    out: list[UnitEta] = []
    start = 0
    for j, stop in enumerate([*skipped, len(order)]):
        if start < stop:
            key = (ranked - j, beyond)
            row = rows.get(key)
            if row is None:
                row = rows[key] = [
                    UnitEta(units[i].unit_id, None, units[i].vehicle, ranked - j + 1 + p,
                            batch.notes[i] or beyond)
                    for p, i in enumerate(order.tolist())
                ]  # fmt: skip
            out.extend(row[start:stop])
        start = stop + 1
    return out


class _LazyPath:
    """One unit's path to the incident, rebuilt from the search tree once, on first use.

    Its length and its route share the rebuilt parts.
    """

    __slots__ = ("_found", "incident", "net", "plan", "start", "target", "unit")

    def __init__(
        self,
        net: NetworkParts,
        unit: UnitPosition,
        start: Anchor | Approach,
        target: Anchor,
        plan: Plan,
        incident: tuple[float, float],
    ) -> None:
        self.net, self.unit, self.start, self.target = net, unit, start, target
        self.plan, self.incident = plan, incident
        self._found: tuple[int, list[PathPart]] | None = None

    def parts(self) -> tuple[int, list[PathPart]]:
        """(entry number of an approach leg, or -1; the in-graph parts)."""
        if self._found is None:
            if isinstance(self.start, Approach):
                self._found = _approach_parts(self.net, self.start, self.target, self.plan)
            else:
                self._found = (-1, _path_parts(self.net, self.start, self.target, self.plan))
        return self._found

    def distance(self) -> float:
        entry, parts = self.parts()
        if isinstance(self.start, Approach):
            return float(self.start.road_m[entry]) + path_length(self.net, parts)
        return path_length(self.net, parts)

    def route(self) -> Route:
        entry, parts = self.parts()
        unit, incident = self.unit, self.incident
        origin = (unit.lat, unit.lon)
        if isinstance(self.start, Approach):
            return assemble_route(
                self.net, parts, vehicle=unit.vehicle, metric="time", origin=origin,
                destination=incident, snaps=(None, self.target.snap),
                lead_in=Leg.of(self.start, entry),
            )  # fmt: skip
        return assemble_route(
            self.net, parts, vehicle=unit.vehicle, metric="time", origin=origin,
            destination=incident, snaps=(self.start.snap, self.target.snap),
        )  # fmt: skip


class _RoutedPath:
    """A unit's path to an incident off the graph: `RoadNetwork.route`, on first use."""

    __slots__ = ("_route", "incident", "net", "unit")

    def __init__(
        self, net: NetworkParts, unit: UnitPosition, incident: tuple[float, float]
    ) -> None:
        self.net, self.unit, self.incident = net, unit, incident
        self._route: Route | None = None

    def route(self) -> Route:
        if self._route is None:
            self._route = self.net.route(
                (self.unit.lat, self.unit.lon), self.incident, vehicle=self.unit.vehicle
            )
        return self._route

    def distance(self) -> float:
        return self.route().distance_m


def _path_parts(net: NetworkParts, start: Anchor, target: Anchor, plan: Plan) -> list[PathPart]:
    """Parts of a snapped unit's path from its ETA plan: a direct drive or the tree's path."""
    if plan[0] == "direct":
        parts: list[PathPart] = plan[1]
        return parts
    _, tree, ws, arrivals = plan
    departures = start.departures(net.compiled, ws.arc_weights)
    best = min((c + float(tree.dist[h]), h, c, a) for h, c, a in departures)
    return tree_to_point(net, tree, ws, start, target, best, arrivals)


def _approach_parts(
    net: NetworkParts, start: Approach, target: Anchor, plan: Plan
) -> tuple[int, list[PathPart]]:
    """The best entry of a unit's approach leg and the in-graph parts from it."""
    _, tree, ws, arrivals = plan
    entry = int(np.argmin(start.seconds + tree.dist[start.nodes]))
    node = int(start.nodes[entry])
    return entry, tree_from_node(net, tree, ws, node, target, arrivals)
