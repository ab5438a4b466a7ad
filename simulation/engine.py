"""The discrete-event simulation of one policy over one list of calls.

Events run in scenario seconds from midnight. A call is decided after its processing time;
the policy picks units from the idle ones; each unit turns out, drives its route (travel time
from routing), works the scene, carries an EMS patient to hospital when the call says so,
drives back to its station and is available again. A call no unit can answer waits and is
retried, first come first served, whenever a unit becomes available. Under a declared surge
(`simulation.declared`, the same for every policy) a unit is available from the moment it
clears, from where it is on the way home, and a freed unit takes the waiting call it reaches
fastest (calls waiting longer than a bound first).

Time is injected through a `Pacer`: `VirtualPacer` jumps from event to event (the default,
fast mode); `ops.simulate_system.ScaledPacer` sleeps on a `ScaledClock`, so the same events
drive the real system at ``speed`` x real time. An `Observer` sees every call and unit status
change (the through-system mode posts them to the HTTP API).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from dispatch.fleet import Vehicle
from simulation.calls import SimCall
from simulation.coverage import CoverageTracker, MoveUpPlanner
from simulation.declared import DeclaredMode, Homing, next_waiting_call, position_en_route
from simulation.errors import SimulationError
from simulation.first_response import FirstResponse
from simulation.policies import Assignment, IdleUnit, Policy
from simulation.results import Outcome, summarise
from simulation.world import World

KST = timezone(timedelta(hours=9))
START = datetime(2025, 3, 1, tzinfo=KST)  # midnight: the hourly profile is local time
Progress = Callable[[str], None]


class Pacer(Protocol):
    def wait_until(self, t: float) -> None: ...

    def now(self, t: float) -> float:
        """The scenario time reached after handling an event due at ``t`` (>= t)."""
        ...


class VirtualPacer:
    """Discrete-event time: no waiting, handling takes no scenario time."""

    def wait_until(self, t: float) -> None:
        return None

    def now(self, t: float) -> float:
        return t


class Observer(Protocol):
    def on_call(self, call: SimCall, t: float) -> None: ...

    def on_unit(self, unit_id: str, status: str, t: float, *, lat: float, lon: float) -> None: ...


class NullObserver:
    def on_call(self, call: SimCall, t: float) -> None:
        return None

    def on_unit(self, unit_id: str, status: str, t: float, *, lat: float, lon: float) -> None:
        return None


@dataclass
class SimUnit:
    vehicle: Vehicle
    lat: float
    lon: float
    busy: bool = False
    relocating: int = 0  # sequence number of the move under way, 0 when none
    post: tuple[float, float] | None = None  # where it was ordered to stand, None: home
    homing: Homing | None = None  # cleared and driving home, dispatchable (declared surge)

    @property
    def displaced(self) -> bool:
        return not self.busy and self.post is not None


@dataclass(order=True)
class _Event:
    t: float
    seq: int
    kind: str = field(compare=False)
    data: Any = field(compare=False)


class Simulation:
    """One policy's run over ``calls``; :meth:`run` returns the summary figures."""

    def __init__(
        self,
        world: World,
        calls: list[SimCall],
        policy: Policy,
        *,
        hours: float,
        move_up: bool = False,
        pacer: Pacer | None = None,
        observer: Observer | None = None,
        progress: Progress | None = None,
        label: str | None = None,
        reserves: Mapping[str, float] | None = None,
        first_responders: tuple[float, float] | None = None,
        declared: DeclaredMode | None = None,
    ) -> None:
        """``reserves``: units off duty until the scenario second given (unit id -> second):
        reserve vehicles whose recalled crews come on duty (a declared surge).
        ``first_responders``: scenario seconds [start, end) of a declared surge in which an
        engine first-responds to an EMS call whose ambulance is more than 5 min away
        (`simulation.first_response`). ``declared``: the declared-surge operating mode
        (`simulation.declared`); None: units are free at their station, the queue is FIFO."""
        self.world, self.calls, self.policy = world, calls, policy
        self.horizon_s = hours * 3600.0
        self.pacer = pacer or VirtualPacer()
        self.observer = observer or NullObserver()
        self.progress = progress
        self.label = label or policy.name
        self.units = {v.unit_id: SimUnit(v, v.lat, v.lon) for v in world.fleet}
        self.tracker = CoverageTracker(world)
        self.planner = MoveUpPlanner(world, self.tracker) if move_up else None
        self.outcomes: list[Outcome] = []
        self.waiting: list[SimCall] = []
        self.moveups = self.move_backs = 0
        self._events: list[_Event] = []
        self._seq = itertools.count()
        self._next_report_h = 1
        self.declared = declared
        self.clock_s = 0.0  # the scenario second of the event being handled
        self.start_time = START  # scenario second 0 (the policies' clock)
        self.first_response = (
            FirstResponse(self, first_responders) if first_responders is not None else None
        )
        self.reserves = dict(reserves or {})
        for unit_id in self.reserves:
            if unit_id not in self.units:
                raise SimulationError(f"reserve unit {unit_id} is not in the fleet")
            unit = self.units[unit_id]
            unit.busy = True  # off duty: neither dispatched nor covering
            self.tracker.set_available(unit_id, unit.vehicle.kind, False)
        if self.reserves:
            self.tracker.sample(0.0)

    # --- event queue ----------------------------------------------------------------------
    def _at(self, t: float, kind: str, data: Any) -> None:
        heapq.heappush(self._events, _Event(t, next(self._seq), kind, data))

    def _status(self, t: float, unit: SimUnit, status: str, place: tuple[float, float]) -> None:
        self._at(t, "status", (unit.vehicle.unit_id, status, place))

    def run(self) -> dict[str, Any]:
        for call in self.calls:
            self._at(call.at_s, "call", call)
        for unit_id, on_duty_s in sorted(self.reserves.items()):
            self._at(on_duty_s, "free", unit_id)  # on duty at its station: like coming home
        handlers: dict[str, Callable[[float, Any], None]] = {
            "call": self._call,
            "decide": self._decide,
            "free": self._free,
            "clear": self._clear,
            "home": self._home,
            "relocated": self._relocated,
            "status": self._on_status,
        }
        while self._events:
            event = heapq.heappop(self._events)
            if event.t > self.horizon_s and len(self.outcomes) == len(self.calls):
                break  # every call answered; units still driving home change no figure
            self._report(event.t)
            self.pacer.wait_until(event.t)
            self.clock_s = event.t
            handlers[event.kind](event.t, event.data)
        self._report(float("inf"))
        figures = summarise(
            self.outcomes,
            moveups=self.moveups,
            move_backs=self.move_backs,
            coverage=self.tracker.time_weighted(self.horizon_s),
            unserved=len(self.waiting),
            unserved_gu=[c.gu for c in self.waiting],
            off_network_gu={g for g, a in self.world.demand.gus.items() if not a.on_network},
        )
        if self.first_response is not None:
            figures["first_responders"] = self.first_response.figures()
        return figures

    def _report(self, t: float) -> None:
        while self.progress is not None and t >= self._next_report_h * 3600.0:
            hour = self._next_report_h
            self._next_report_h += 1
            if hour * 3600.0 > self.horizon_s:
                self._next_report_h = 10**9
                return
            busy = sum(u.busy for u in self.units.values())
            shares = ", ".join(
                f"{k} {100 * v:.1f}%" for k, v in self.tracker.history[-1][1].items()
            )
            self.progress(
                f"[{self.label}] {hour:02d}:00  incidents {len(self.outcomes)}  busy units "
                f"{busy}/{len(self.units)}  coverage {shares}  move-ups {self.moveups}"
            )

    # --- handlers ---------------------------------------------------------------------------
    def _call(self, t: float, call: SimCall) -> None:
        self.observer.on_call(call, t)
        self._at(call.at_s + call.processing_s, "decide", call)

    def _idle(self) -> list[IdleUnit]:
        return [
            IdleUnit(
                u.vehicle.unit_id,
                u.vehicle.kind,
                u.vehicle.station_id,
                u.vehicle.name,
                u.vehicle.station_name,
                *self.position(u),
            )
            for u in self.units.values()
            if not u.busy
        ]

    def position(self, unit: SimUnit) -> tuple[float, float]:
        """Where ``unit`` is now (on its way home when it cleared under a declared surge)."""
        if unit.homing is not None:
            return position_en_route(unit.homing, self.clock_s)
        return unit.lat, unit.lon

    def _settle(self, unit: SimUnit) -> None:
        """Fix a homing unit where it is now: it is sent or ordered elsewhere."""
        unit.lat, unit.lon = self.position(unit)
        unit.homing = None

    def _decide(self, t: float, call: SimCall) -> None:
        if not self._send(t, call):
            self.waiting.append(call)

    def _send(self, t: float, call: SimCall) -> bool:
        chosen = self.policy.choose(call, self._idle(), now=START + timedelta(seconds=t))
        t = self.pacer.now(t)
        chosen = [a for a in chosen if not self.units[a.unit_id].busy]
        engine = self.first_response.engine_for(t, call, chosen) if self.first_response else None
        if engine is not None:
            chosen = [*chosen, engine]
        if not chosen:
            return False
        arrivals = [
            self._start_job(self.units[a.unit_id], call, a, t, hold=a is engine) for a in chosen
        ]
        arrive, first = min(arrivals, key=lambda x: x[0])
        if engine is not None and self.first_response is not None:
            self.first_response.sent(call, engine, arrivals)
        self.outcomes.append(
            Outcome(
                call_id=call.call_id,
                type=call.type.value,
                at_s=call.at_s,
                dispatched_s=t,
                first_unit=first.unit_id,
                first_kind=self.units[first.unit_id].vehicle.kind,
                travel_s=first.travel_s,
                on_scene_s=arrive - call.at_s,
                units_sent=len(chosen),
                queued_s=max(0.0, t - call.at_s - call.processing_s),
                gu=call.gu,
                estimated=not self.world.on_network((call.lat, call.lon)),
            )
        )
        self.tracker.sample(t)
        self._move_up(t)
        return True

    def _start_job(
        self, unit: SimUnit, call: SimCall, job: Assignment, t: float, *, hold: bool = False
    ) -> tuple[float, Assignment]:
        """Send ``unit``; ``hold``: it stays on scene until `release` (a first responder)."""
        v, world = unit.vehicle, self.world
        self._settle(unit)
        unit.busy, unit.relocating = True, 0
        self.tracker.set_available(v.unit_id, v.kind, False)
        scene = (call.lat, call.lon)
        self._status(t, unit, "dispatched", (unit.lat, unit.lon))
        depart = t + world.service.turnout_s(v.kind)
        arrive = depart + job.travel_s
        leave = arrive + call.scene_s
        self._status(depart, unit, "en_route", (unit.lat, unit.lon))
        self._status(arrive, unit, "on_scene", scene)
        if hold:
            return arrive, job
        if v.kind == "ambulance" and call.transport:
            if call.hospital is None:
                hospital, to_hospital = world.hospital_for(scene)
                place = (hospital.lat, hospital.lon)
            else:  # a patient of a mass-casualty incident, to the emergency room assigned
                place = call.hospital
                to_hospital = world.travel_s(scene, place, vehicle="ambulance")
            self._status(leave, unit, "transporting", scene)
            self._status(leave + to_hospital, unit, "at_hospital", place)
            leave += to_hospital + world.service.handover_s
        else:
            place = scene
        self.release(unit, leave, place)
        return arrive, job

    def release(self, unit: SimUnit, leave: float, place: tuple[float, float]) -> None:
        """``unit`` leaves ``place`` at ``leave`` and is free when back at its station (or
        when it clears, under a declared surge)."""
        v = unit.vehicle
        self._status(leave, unit, "returning", place)
        home_at = leave + self.world.travel_s(place, (v.lat, v.lon), vehicle=v.kind)
        if self.declared is not None and self.declared.dispatch_on_clear:
            self._at(leave, "clear", (v.unit_id, place, home_at))
        else:
            self._at(home_at, "free", v.unit_id)

    def _declared_now(self, t: float) -> bool:
        return self.declared is not None and self.declared.active(t, backlog=bool(self.waiting))

    def _clear(self, t: float, data: tuple[str, tuple[float, float], float]) -> None:
        """A unit cleared at ``place``: free from here under a declared surge, else at home."""
        unit_id, place, home_at = data
        if not self._declared_now(t):
            self._at(home_at, "free", unit_id)
            return
        unit = self.units[unit_id]
        v = unit.vehicle
        seq = next(self._seq)
        unit.homing = Homing(place, (v.lat, v.lon), t, home_at, seq)
        unit.lat, unit.lon = place
        self._at(home_at, "home", (unit_id, seq))
        self._available(t, unit, place)

    def _home(self, t: float, data: tuple[str, int]) -> None:
        """A cleared unit that was not sent on the way reaches its station."""
        unit_id, seq = data
        unit = self.units[unit_id]
        if unit.busy or unit.homing is None or unit.homing.seq != seq:
            return  # sent (or ordered to a post) on the way
        v = unit.vehicle
        unit.homing, unit.lat, unit.lon = None, v.lat, v.lon
        self.observer.on_unit(unit_id, "position", self.pacer.now(t), lat=v.lat, lon=v.lon)

    def _free(self, t: float, unit_id: str) -> None:
        unit = self.units[unit_id]
        v = unit.vehicle
        unit.lat, unit.lon, unit.homing = v.lat, v.lon, None
        self._available(t, unit, (v.lat, v.lon))

    def _available(self, t: float, unit: SimUnit, place: tuple[float, float]) -> None:
        """``unit`` (at ``place``) takes calls again: the waiting ones first, then move-ups.
        Coverage counts it at its station (where it is, or where it is heading)."""
        v, unit_id = unit.vehicle, unit.vehicle.unit_id
        unit.busy, unit.post = False, None
        self.tracker.place(unit_id, v.kind, v.lat, v.lon)
        self.tracker.set_available(unit_id, v.kind, True)
        self.observer.on_unit(unit_id, "available", self.pacer.now(t), lat=place[0], lon=place[1])
        self.tracker.sample(t)
        self._serve_waiting(t, unit)
        if self.first_response is not None:  # then the ambulances owed to first-responded calls
            self.first_response.retry(t)
        self._move_up(t)

    def _serve_waiting(self, t: float, unit: SimUnit) -> None:
        """Retry the waiting calls now that ``unit`` is free: first come, first served; under
        a declared surge the freed unit's own pick goes first (`next_waiting_call`)."""
        declared = self.declared
        if declared is not None and declared.nearest_waiting_first and self._declared_now(t):
            first = next_waiting_call(
                self.world,
                self.waiting,
                kind=unit.vehicle.kind,
                position=self.position(unit),
                t=t,
                bound_s=declared.queue_bound_s,
            )
            if first is not None and self._send(t, first):
                self.waiting.remove(first)
        waiting, self.waiting = self.waiting, []
        for call in waiting:
            if not self._send(t, call):
                self.waiting.append(call)

    def _on_status(self, t: float, data: tuple[str, str, tuple[float, float]]) -> None:
        unit_id, status, (lat, lon) = data
        self.observer.on_unit(unit_id, status, t, lat=lat, lon=lon)

    # --- move-up ----------------------------------------------------------------------------
    def _move_up(self, t: float) -> None:
        if self.planner is None:
            return
        displaced: dict[str, set[str]] = {}
        busy_kinds: set[str] = set()
        for unit in self.units.values():
            if unit.busy:
                busy_kinds.add(unit.vehicle.kind)
            elif unit.displaced:
                displaced.setdefault(unit.vehicle.kind, set()).add(unit.vehicle.unit_id)
        for order in self.planner.plan(displaced, busy_kinds, now=t):
            unit = self.units[order.unit_id]
            if unit.busy:
                continue
            seq = next(self._seq)
            self._settle(unit)
            unit.relocating = seq
            at_home = (order.lat, order.lon) == (unit.vehicle.lat, unit.vehicle.lon)
            unit.post = None if at_home else (order.lat, order.lon)
            # coverage counts the unit at its post from the order on (no cascade of moves
            # while it drives); dispatch still sees it where it started until it arrives
            self.tracker.place(order.unit_id, order.kind, order.lat, order.lon)
            drive = self.world.travel_s(
                (unit.lat, unit.lon), (order.lat, order.lon), vehicle=order.kind
            )
            turnout = self.world.service.turnout_s(order.kind)
            self._at(t + turnout + drive, "relocated", (order.unit_id, seq, order.lat, order.lon))
            if order.move_up:
                self.moveups += 1
            else:
                self.move_backs += 1
        self.tracker.sample(t)

    def _relocated(self, t: float, data: tuple[str, int, float, float]) -> None:
        unit_id, seq, lat, lon = data
        unit = self.units[unit_id]
        if unit.busy or unit.relocating != seq:
            return  # dispatched (or re-ordered) on the way
        unit.lat, unit.lon, unit.relocating = lat, lon, 0
        self.observer.on_unit(unit_id, "position", self.pacer.now(t), lat=lat, lon=lon)
