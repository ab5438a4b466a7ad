"""A crowd's calls through the live worker's correlation, in time order: surge, MCI, patients.

Every call of the scenario (the ordinary city traffic, the crowd's calls and the ordinary calls
near it) is replayed in time order through the code the dispatch worker runs, in memory
instead of the database:

1. a call of a type crowd callers report (``dispatch.surge.SURGE_TYPES``) first asks
   ``dispatch.surge.find_surge`` over the calls of the last surge window; in a surge it joins
   the area's MCI incident (an incident already an MCI, else the one holding most of the
   area's calls, the oldest on a tie: the live `dispatch.surge_intake.SurgeDesk`'s rule) with
   ``dispatch.surge.surge_reason``; when the area's calls are in no active incident the
   ordinary rules place it and the incident they give becomes the MCI. The other active
   incidents of the area (of surge types, not MCIs themselves) are folded into it, each moved
   link keeping its reason ("folded from ...: <its reason>");
2. any other call (and a surge-type call in no surge) goes through
   ``dispatch.correlate.decide`` over the open incidents (``CandidateIndex``), as the intake;
3. after each surge call the MCI's casualties are estimated from its calls
   (``dispatch.mci.estimate_casualties``) and a level proposed (``dispatch.mci.propose_level``,
   calls per 10 min from the area, the station area by road as the live worker finds it,
   ``dispatch.mci.station_area`` over the stations' road ETAs to the centre: the first-due
   station's 소방서 and its neighbours, every ambulance counted as free, the replay does not
   depend on a dispatch policy); a proposal is recorded when it rises;
4. at the scene's triage time the patients (red, yellow, green; black are not carried) are
   spread over the emergency rooms (``dispatch.patients.er_capacities`` and ``distribute``)
   by their road ETA from the MCI (``RoadNetwork.etas_from``).

`CrowdReplay.dispatched` turns the outcome into calls for the policy runs: every incident the
crowd's calls (and the nearby calls) opened, with its type, when it opened; and one ambulance
run per patient, from the scene to the emergency room assigned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from dispatch.correlate import ACTIVE, CandidateIndex, OpenIncident, Signal, decide
from dispatch.mci import (
    LevelProposal,
    StationArea,
    StationReach,
    estimate_casualties,
    propose_level,
    station_area,
)
from dispatch.mci_stations import NEIGHBOUR_STATIONS, STATION_CUTOFF_S
from dispatch.patients import PatientAssignment, distribute, er_capacities
from dispatch.surge import SURGE_TYPES, SurgeArea, SurgeCall, SurgeRules, find_surge, surge_reason
from dispatch.surge_intake import surge_call
from goldentime.contracts import IncidentStatus, IncidentType
from routing.values import UnitPosition
from simulation.calls import SimCall
from simulation.crowd import CrowdCall, crowd_calls, nearby_calls
from simulation.engine import START
from simulation.errors import SimulationError
from simulation.scenario import Scenario
from simulation.world import World

PATIENT_GAP_S = 60.0  # one ambulance leaves the casualty collection point a minute


@dataclass
class _Incident:
    open: OpenIncident
    opened_by: str  # the call that opened it
    calls: list[str] = field(default_factory=list)
    mci: bool = False
    merged_into: str | None = None


@dataclass
class CrowdReplay:
    """What correlation made of the scenario's calls (see the module doc)."""

    scenario: Scenario
    start: datetime  # scenario second 0
    crowd: list[CrowdCall]  # the crowd's and the nearby calls, in time order
    links: dict[str, tuple[str, str]] = field(default_factory=dict)  # call -> (incident, reason)
    incidents: dict[str, _Incident] = field(default_factory=dict)
    proposals: list[tuple[float, str, LevelProposal]] = field(default_factory=list)
    areas: dict[str, SurgeArea] = field(default_factory=dict)  # MCI -> its latest area
    assignments: list[PatientAssignment] = field(default_factory=list)
    ers_within_horizon: int = 0
    triage_at_s: float | None = None
    dispatched: list[SimCall] = field(default_factory=list)
    surge_calls: dict[str, SurgeCall] = field(default_factory=dict, repr=False)  # by call id

    def final(self, incident_id: str) -> str:
        while (nxt := self.incidents[incident_id].merged_into) is not None:
            incident_id = nxt
        return incident_id

    def incident_of(self, call_id: str) -> str:
        return self.final(self.links[call_id][0])

    def crowd_incidents(self) -> dict[str, int]:
        """The incidents the crowd's calls are in at the end, and how many calls each holds."""
        return dict(Counter(self.incident_of(c.call_id) for c in self.crowd if c.crowd))

    def figures(self) -> dict[str, Any]:
        """The ``surge`` object of ``goldentime simulate --scenario ... --json``."""
        crowd = [c for c in self.crowd if c.crowd]
        held = self.crowd_incidents()
        third = crowd[2].at_s if len(crowd) >= 3 else None
        level2 = next((t for t, _i, p in self.proposals if p.level >= 2), None)
        per_er = Counter(a.er_id for a in self.assignments)
        n = len(self.assignments)
        mci_ids = sorted(i for i in held if self.incidents[i].mci)
        nearby = [c for c in self.crowd if not c.crowd]
        return {
            "scenario": self.scenario.name,
            "place": self.scenario.crowd.place if self.scenario.crowd else "",
            "calls": len(crowd),
            "repeat_calls": sum(1 for c in crowd if c.repeat),
            "incidents_in_area": len(held),
            "incidents_opened": len({self.links[c.call_id][0] for c in crowd}),
            "mci": bool(mci_ids),
            "mci_incidents": mci_ids,
            "calls_in_mci": sum(held[i] for i in mci_ids),
            "response_level": max((p.level for _t, _i, p in self.proposals), default=0),
            "first_level2_after_s": None
            if level2 is None or third is None
            else round(level2 - third, 1),
            "levels": [
                {"at_s": round(t, 1), "incident_id": i, "level": p.level, "reason": p.reason}
                for t, i, p in self.proposals
            ],
            "casualty_estimate": self._estimate(mci_ids),
            "links_with_reason": sum(1 for c in crowd if self.links[c.call_id][1]),
            "nearby_calls_merged": sum(
                1 for c in nearby if self.incidents[self.incident_of(c.call_id)].mci
            ),
            "triage_at_s": self.triage_at_s,
            "patients_assigned": n,
            "ers_used": len(per_er),
            "ers_within_15min": self.ers_within_horizon,
            "max_er_share": round(max(per_er.values()) / n, 3) if n else None,
            "er_load": [
                {"er_id": er, "er_name": self._er_name(er), "patients": k}
                for er, k in per_er.most_common()
            ],
        }

    def _estimate(self, mci_ids: list[str]) -> int | None:
        if not mci_ids:
            return None
        calls = [self.surge_calls[c] for i in mci_ids for c in self._members(i)]
        return estimate_casualties(calls).estimate

    def _members(self, incident_id: str) -> list[str]:
        return [c for c in self.links if self.incident_of(c) == incident_id]

    def _er_name(self, er_id: str) -> str:
        return next(a.er_name for a in self.assignments if a.er_id == er_id)

    def summary(self) -> str:
        f = self.figures()
        return (
            f"{f['calls']} crowd calls -> {f['incidents_in_area']} incident(s) in the area "
            f"(MCI {f['mci']}), level {f['response_level']} "
            f"(>= 2 {f['first_level2_after_s']} s after the 3rd call), "
            f"{f['patients_assigned']} patients to {f['ers_used']} ERs "
            f"(max share {f['max_er_share']})"
        )


def _signal(call: SimCall | CrowdCall, at: datetime) -> Signal:
    payload: dict[str, Any] = {}
    if isinstance(call, CrowdCall):
        if call.uncertainty_m is not None:
            payload["location_uncertainty_m"] = call.uncertainty_m
        if call.caller is not None:
            payload["caller"] = call.caller
        description = call.description
    else:
        description = ""
    return Signal(
        call.call_id, "call", at, call.lat, call.lon, call.type, description, "sim", payload
    )


def replay_crowd(
    world: World,
    scenario: Scenario,
    ordinary: list[SimCall],
    *,
    hours: float,
    seed: int,
    rules: SurgeRules | None = None,
) -> CrowdReplay:
    """Correlate the scenario's calls in time order and distribute the patients (module doc)."""
    spec = scenario.crowd
    if spec is None:
        raise SimulationError(f"scenario {scenario.name} has no [crowd]")
    rules = rules or SurgeRules()
    horizon = hours * 3600.0
    crowd = [
        c
        for c in crowd_calls(spec, seed=seed) + nearby_calls(spec, scenario.nearby)
        if c.at_s < horizon
    ]
    crowd.sort(key=lambda c: (c.at_s, c.call_id))
    start = START + timedelta(hours=scenario.start_hour)
    out = CrowdReplay(scenario, start, crowd)
    _Correlator(world, out, rules).run(sorted([*ordinary, *crowd], key=lambda c: c.at_s))
    if spec.scene is not None and spec.start_min * 60 + spec.scene.triage_at_min * 60 < horizon:
        _distribute(
            world, out, spec.scene.triage, spec.start_min * 60 + spec.scene.triage_at_min * 60
        )
    out.dispatched = _dispatched(world, out, seed=seed)
    return out


class _Correlator:
    """The intake's decisions over an in-memory store (module doc, steps 1-3)."""

    def __init__(self, world: World, out: CrowdReplay, rules: SurgeRules) -> None:
        self.world, self.out, self.rules = world, out, rules
        catalog = world.catalog
        self.index = CandidateIndex(
            (), search_radius_m=catalog.max_radius_m, window_s=catalog.max_window_s
        )
        self.recent: list[SurgeCall] = []  # surge-type calls, oldest first
        self.place = out.scenario.crowd.place if out.scenario.crowd else ""
        self.ambulances = Counter(v.station_id for v in world.fleet if v.kind == "ambulance")
        self.stations = [
            UnitPosition(s.station_id, s.lat, s.lon, vehicle="ambulance", name=s.name)
            for s in world.stations.values()
            if s.station_id in self.ambulances
        ]
        self.jurisdictions = world.jurisdictions
        self._areas: dict[tuple[float, float], StationArea | None] = {}

    def run(self, calls: list[SimCall | CrowdCall]) -> None:
        for call in calls:
            at = self.out.start + timedelta(seconds=call.at_s)
            signal = _signal(call, at)
            sc = surge_call(signal)
            self.out.surge_calls[call.call_id] = sc
            horizon = at - timedelta(seconds=self.rules.window_s)
            self.recent = [c for c in self.recent if c.at >= horizon]
            area = None
            if call.type in SURGE_TYPES:
                area = find_surge(sc, self.recent, rules=self.rules)
                self.recent.append(sc)
            if area is None:
                self._ordinary(signal)
            else:
                self._surge(signal, area, call.at_s)

    def _open(self, signal: Signal) -> str:
        incident_id = f"inc-{signal.id}"
        incident = OpenIncident(
            incident_id, signal.type, IncidentStatus.OPEN, signal.lat, signal.lon,
            signal.at, signal.at,
        )  # fmt: skip
        self.out.incidents[incident_id] = _Incident(incident, signal.id)
        self.index.add(incident)
        return incident_id

    def _link(self, signal: Signal, incident_id: str, reason: str) -> None:
        self.out.links[signal.id] = (incident_id, reason)
        known = self.out.incidents[incident_id]
        known.calls.append(signal.id)
        if signal.at > known.open.last_activity_at:
            self.index.touch(known.open, signal.at)

    def _ordinary(self, signal: Signal) -> str:
        decision = decide(
            signal, self.index.near(signal.lat, signal.lon, signal.at), self.world.catalog
        )
        incident_id = decision.incident_id or self._open(signal)
        self._link(signal, incident_id, decision.reason)
        return incident_id

    def _candidates(self, area: SurgeArea) -> Counter[str]:
        counts: Counter[str] = Counter()
        for call_id in area.call_ids:
            if call_id in self.out.links:
                known = self.out.incidents[self.out.incident_of(call_id)]
                if known.open.status in ACTIVE and known.open.type in SURGE_TYPES:
                    counts[known.open.id] += 1
        return counts

    def _surge(self, signal: Signal, area: SurgeArea, at_s: float) -> None:
        counts = self._candidates(area)
        incidents = self.out.incidents
        reason = surge_reason(
            area, distance_m=area.distance_m(signal.lat, signal.lon), place=self.place
        )
        if counts:
            target = min(
                counts,
                key=lambda i: (not incidents[i].mci, -counts[i], incidents[i].open.created_at, i),
            )
            self._link(signal, target, reason)
        else:
            target = self._ordinary(signal)
            self.out.links[signal.id] = (target, f"{reason}; {self.out.links[signal.id][1]}")
        incidents[target].mci = True
        self.out.areas[target] = area
        for other in counts:
            # another MCI is never folded in (the live rule: its triage, confirmed level and
            # patients are a team's work; two MCIs of one area are merged by a dispatcher)
            if other != target and not incidents[other].mci:
                incidents[other].merged_into = target
                incidents[other].open.status = IncidentStatus.MERGED
                for call_id in incidents[other].calls:
                    old_incident, old_reason = self.out.links[call_id]
                    self.out.links[call_id] = (
                        old_incident,
                        f"folded from {other} into {target}: {old_reason}",
                    )
        self._propose(target, area, at_s)

    def _propose(self, incident_id: str, area: SurgeArea, at_s: float) -> None:
        calls = [self.out.surge_calls[c] for c in self.out._members(incident_id)]
        estimate = estimate_casualties(calls)
        stations = self._station_area(area)
        proposal = propose_level(
            estimate,
            calls_per_10min=round(area.calls_in_window * 600.0 / area.window_s),
            station_area=stations,
            area_ambulances=None if stations is not None else 0,
            witnesses=area.several_callers,
        )
        before = max((p.level for _t, i, p in self.out.proposals if i == incident_id), default=0)
        if proposal.level > before:
            self.out.proposals.append((at_s, incident_id, proposal))

    def _station_area(self, area: SurgeArea) -> StationArea | None:
        """The live rule's station area by road (``dispatch.mci.station_area``): the stations
        with ambulances ranked by their road ETA to the area's centre (one reverse search),
        every ambulance counted as free (the replay does not depend on a dispatch policy).
        Cached per ~10 m of the centre: it moves little from call to call."""
        key = (round(area.lat, 4), round(area.lon, 4))
        if key not in self._areas:
            ranked = self.world.network.etas(
                key, self.stations, cutoff_s=STATION_CUTOFF_S, top_n_routes=0
            )
            etas = {e.unit_id: e.eta_s for e in ranked}
            reach = [
                StationReach(
                    p.unit_id,
                    p.name,
                    self.jurisdictions.get(p.unit_id, p.name),
                    etas.get(p.unit_id),
                    self.ambulances[p.unit_id],
                )
                for p in self.stations
            ]
            self._areas[key] = station_area(reach, neighbours=NEIGHBOUR_STATIONS)
        return self._areas[key]


def _distribute(world: World, out: CrowdReplay, triage: dict[str, int], at_s: float) -> None:
    """Spread the scene's patients over the emergency rooms by road ETA (module doc, step 4)."""
    mci = [i for i in out.crowd_incidents() if out.incidents[i].mci]
    if not mci:
        return  # no MCI: nobody distributes patients (the figures say so)
    area = out.areas[mci[0]]
    ers = er_capacities(world.hospitals)
    etas = world.network.etas_from(
        (area.lat, area.lon), [(e.lat, e.lon) for e in ers], vehicle="ambulance"
    )
    reachable = [(e, float(t)) for e, t in zip(ers, etas, strict=True) if t is not None]
    out.ers_within_horizon = sum(1 for _e, t in reachable if t <= 900.0)
    out.assignments = distribute(triage, reachable)
    out.triage_at_s = at_s


def _dispatched(world: World, out: CrowdReplay, *, seed: int) -> list[SimCall]:
    """The crowd's incidents and the MCI's patients as calls for the policy runs."""
    rng = np.random.default_rng([seed, 18, 2])
    service = world.service
    gu = _gu_of(world, out)
    calls: list[SimCall] = []
    opened = sorted(
        {out.links[c.call_id][0] for c in out.crowd}, key=lambda i: out.incidents[i].open.created_at
    )
    for incident_id in opened:
        known = out.incidents[incident_id]
        at_s = (known.open.created_at - out.start).total_seconds()
        calls.append(
            SimCall(
                f"mci-{incident_id}",
                at_s,
                known.open.lat,
                known.open.lon,
                known.open.type,
                gu,
                service.sample_processing(rng),
                service.sample_scene(rng, known.open.type),
                False,
            )
        )
    if out.assignments and out.triage_at_s is not None:
        area = out.areas[next(i for i in out.crowd_incidents() if out.incidents[i].mci)]
        ers = {e.er_id: e for e in er_capacities(world.hospitals)}
        for n, a in enumerate(out.assignments):
            er = ers[a.er_id]
            calls.append(
                SimCall(
                    f"mci-patient-{a.patient:03d}",
                    out.triage_at_s + n * PATIENT_GAP_S,
                    area.lat,
                    area.lon,
                    IncidentType.EMS,
                    gu,
                    service.sample_processing(rng),
                    service.sample_scene(rng, IncidentType.EMS) / 3.0,  # loading, not treating
                    True,
                    (er.lat, er.lon),
                )
            )
    return calls


def _gu_of(world: World, out: CrowdReplay) -> str:
    """The crowd's gu (the policies' figures are by gu)."""
    spec = out.scenario.crowd
    assert spec is not None
    if spec.gu not in world.places.by_gu:
        raise SimulationError(
            f"scenario {out.scenario.name}: crowd.gu {spec.gu!r} is not in the simulated area"
        )
    return spec.gu
