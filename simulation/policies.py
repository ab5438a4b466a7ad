"""Dispatch policies compared by the simulation.

- ``nearest``: the traditional station-first rule. The run card is filled kind by kind from
  the stations nearest to the incident by straight line (distance from the station, not the
  vehicle's own position); the units are then driven by road and their real travel time
  counts.
- ``eta``: the real recommendation (`dispatch.runcard_fill.recommend`): the run card filled
  with the available units that arrive first by road ETA from where they are now.
- ``eta+moveup``: ``eta``, plus move-ups of idle units (`simulation.moveup`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dispatch.cells import distance_m
from dispatch.runcard_fill import AvailableUnit, recommend
from goldentime.contracts import Incident, IncidentStatus
from routing import RoutingError, UnitPosition
from simulation.calls import SimCall
from simulation.errors import SimulationError
from simulation.world import World

POLICIES = ("nearest", "eta", "eta+moveup")
ETA_CUTOFF_S = 1800.0
TRAVEL_CANDIDATES = 6  # per kind, nearest by straight line, timed one by one


@dataclass(frozen=True, slots=True)
class IdleUnit:
    """An available unit as a policy sees it."""

    unit_id: str
    kind: str
    station_id: str
    name: str
    station_name: str
    lat: float  # where it is now
    lon: float


@dataclass(frozen=True, slots=True)
class Assignment:
    unit_id: str
    travel_s: float  # driving time from its current position to the incident


class Policy(Protocol):
    name: str

    def choose(
        self, call: SimCall, idle: Sequence[IdleUnit], *, now: datetime
    ) -> list[Assignment]: ...


def incident_of(call: SimCall, world: World, *, now: datetime) -> Incident:
    """The incident record the dispatch code works on for ``call``."""
    return Incident(
        id=f"inc-{call.call_id}",
        type=call.type,
        status=IncidentStatus.OPEN,
        lat=call.lat,
        lon=call.lon,
        call_ids=[call.call_id],
        created_at=now,
        updated_at=now,
        priority=world.catalog[call.type].priority,
        gu=call.gu or None,
    )


class EtaPolicy:
    """The real recommendation by road ETA."""

    name = "eta"

    def __init__(self, world: World) -> None:
        self.world = world

    def choose(self, call: SimCall, idle: Sequence[IdleUnit], *, now: datetime) -> list[Assignment]:
        units = [
            AvailableUnit(u.unit_id, u.name, u.kind, u.station_name, u.lat, u.lon)  # type: ignore[arg-type]
            for u in idle
        ]
        rec = recommend(
            incident_of(call, self.world, now=now),
            units,
            network=self.world.network,
            catalog=self.world.catalog,
            hospitals=(),  # the hospital is chosen alike for every policy (World.hospital_for)
            now=now,
        )
        chosen = [Assignment(u.unit_id, float(u.eta_s)) for u in rec.units if u.eta_s is not None]
        return chosen or fastest_by_travel(self.world, call, idle)


class NearestStationPolicy:
    """Station-first: the nearest stations by straight line send their units."""

    name = "nearest"

    def __init__(self, world: World) -> None:
        self.world = world

    def choose(self, call: SimCall, idle: Sequence[IdleUnit], *, now: datetime) -> list[Assignment]:
        stations = self.world.stations

        def crow(unit: IdleUnit) -> float:
            home = stations[unit.station_id]
            return distance_m(call.lat, call.lon, home.lat, home.lon)

        chosen: list[IdleUnit] = []
        for kind, count in self.world.catalog[call.type].run_card.items():
            of_kind = sorted(
                (u for u in idle if u.kind == kind), key=lambda u: (crow(u), u.unit_id)
            )
            chosen.extend(of_kind[:count])
        if not chosen:
            return []
        place = (call.lat, call.lon)
        positions = [UnitPosition(u.unit_id, u.lat, u.lon, vehicle=u.kind) for u in chosen]
        try:
            etas = self.world.network.etas(place, positions, cutoff_s=ETA_CUTOFF_S, top_n_routes=0)
        except RoutingError:  # off the network, or every road near is closed to a class
            etas = []
        by_id = {e.unit_id: e.eta_s for e in etas}
        return [
            Assignment(u.unit_id, _travel(self.world, u, place, by_id.get(u.unit_id)))
            for u in chosen
        ]


def _travel(world: World, unit: IdleUnit, place: tuple[float, float], eta: float | None) -> float:
    """``eta`` when routing gave one, else the world's travel time (approach leg, crow-flight)."""
    if eta is not None:
        return float(eta)
    return world.travel_s((unit.lat, unit.lon), place, vehicle=unit.kind)


def fastest_by_travel(world: World, call: SimCall, idle: Sequence[IdleUnit]) -> list[Assignment]:
    """The run card when routing ranks no unit for the place (off the network, or closed).

    Per kind, the `TRAVEL_CANDIDATES` idle units nearest by straight line are timed with
    `World.travel_s` and the fastest are sent.
    """
    place = (call.lat, call.lon)
    chosen: list[Assignment] = []
    for kind, count in world.catalog[call.type].run_card.items():
        near = sorted(
            (u for u in idle if u.kind == kind),
            key=lambda u: (distance_m(call.lat, call.lon, u.lat, u.lon), u.unit_id),
        )[:TRAVEL_CANDIDATES]
        timed = sorted((_travel(world, u, place, None), u.unit_id) for u in near)
        chosen.extend(Assignment(unit_id, t) for t, unit_id in timed[:count])
    return chosen


def make_policy(name: str, world: World) -> Policy:
    """The policy called ``name`` (``eta+moveup`` dispatches like ``eta``)."""
    if name == "nearest":
        return NearestStationPolicy(world)
    if name in ("eta", "eta+moveup"):
        return EtaPolicy(world)
    raise SimulationError(f"unknown policy {name!r}; choose from {', '.join(POLICIES)}")


def parse_policies(values: Sequence[str]) -> list[str]:
    """``--policy`` values (repeatable or comma lists) -> policy names, in canonical order."""
    names = {p.strip() for v in values for p in v.split(",") if p.strip()} or set(POLICIES)
    unknown = names - set(POLICIES)
    if unknown:
        raise SimulationError(
            f"unknown policy {', '.join(sorted(unknown))}; choose from {', '.join(POLICIES)}"
        )
    return [p for p in POLICIES if p in names]
