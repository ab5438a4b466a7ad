"""Engines as first responders to EMS calls under a declared surge (Korea's 펌뷸런스).

When a surge is declared, an EMS call whose ambulance is more than 5 min away (or has none
free at all) also gets the engine the policy picks first (its own rule: nearest station by
straight line, or the fastest by road), when that engine arrives sooner. Fire crews in Seoul are
EMT-trained and carry AEDs; the engine starts care, it does not carry the patient:

- the engine **stays on scene until the ambulance arrives**, then hands over
  (`HANDOVER_S`) and drives home: it is held as long as the patient waits;
- a call answered by the engine alone still **owes its ambulance**: the owed ambulances are
  sent, oldest first, as ambulances become free (after the calls no unit answered at all);
- the call's figures (first unit on scene) are the engine's; the ambulance's own arrival is
  kept apart (``ambulance_on_scene_*`` in ``first_responders``), so the measure is not
  bent: travel within 5 min says a trained crew was there, not an ambulance.

Only EMS-only run cards (an ambulance and no engine: ``ems``) take part; cardiac arrest
already sends an engine.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from goldentime.contracts import IncidentType
from simulation.calls import SimCall
from simulation.policies import Assignment
from simulation.results import GOLDEN_TIME_S, TRAVEL_BUDGET_S

if TYPE_CHECKING:
    from simulation.engine import Simulation

HANDOVER_S = 300.0  # the engine crew hands the patient over and leaves this long after
ENGINE_CARD = IncidentType.OTHER  # its run card is one engine: the policy's engine choice


@dataclasses.dataclass
class _Owed:
    call: SimCall
    engine_id: str
    engine_arrive: float


class FirstResponse:
    """The first-responder rule of one run (see the module doc)."""

    def __init__(self, sim: Simulation, window: tuple[float, float]) -> None:
        self.sim, self.window = sim, window
        self.owed: list[_Owed] = []
        self.engines_sent = 0
        self.ambulance_on_scene: list[float] = []  # call -> ambulance on scene, first-responded

    def engine_for(self, t: float, call: SimCall, chosen: list[Assignment]) -> Assignment | None:
        """The engine to send with ``chosen`` for ``call``, or None."""
        start, end = self.window
        card = self.sim.world.catalog[call.type].run_card
        if not start <= call.at_s < end or "ambulance" not in card or "engine" in card:
            return None
        units = self.sim.units
        ambulance = [a.travel_s for a in chosen if units[a.unit_id].vehicle.kind == "ambulance"]
        if ambulance and min(ambulance) <= TRAVEL_BUDGET_S:
            return None
        taken = {a.unit_id for a in chosen}
        idle = [u for u in self.sim._idle() if u.kind == "engine" and u.unit_id not in taken]
        if not idle:
            return None
        picks = self.sim.policy.choose(
            dataclasses.replace(call, type=ENGINE_CARD),
            idle,
            now=self.sim.start_time + timedelta(seconds=t),
        )
        picks = [
            p
            for p in picks
            if units[p.unit_id].vehicle.kind == "engine" and not units[p.unit_id].busy
        ]
        if not picks:
            return None
        best = min(picks, key=lambda p: (p.travel_s, p.unit_id))
        if ambulance and best.travel_s >= min(ambulance):
            return None
        return best

    def sent(
        self, call: SimCall, engine: Assignment, arrivals: list[tuple[float, Assignment]]
    ) -> None:
        """The engine went with the units of ``arrivals``: release it when the ambulance is
        there, or owe the call its ambulance."""
        self.engines_sent += 1
        engine_arrive = next(t for t, a in arrivals if a is engine)
        ambulance = [
            t for t, a in arrivals if self.sim.units[a.unit_id].vehicle.kind == "ambulance"
        ]
        if ambulance:
            self._handover(call, engine.unit_id, engine_arrive, min(ambulance))
        else:
            self.owed.append(_Owed(call, engine.unit_id, engine_arrive))

    def retry(self, t: float) -> None:
        """Send free ambulances to the calls owed one, oldest first."""
        owed, self.owed = self.owed, []
        for item in owed:
            if not self._send_ambulance(t, item):
                self.owed.append(item)

    def _send_ambulance(self, t: float, item: _Owed) -> bool:
        sim = self.sim
        idle = [u for u in sim._idle() if u.kind == "ambulance"]
        if not idle:
            return False
        picks = [
            p
            for p in sim.policy.choose(item.call, idle, now=sim.start_time + timedelta(seconds=t))
            if sim.units[p.unit_id].vehicle.kind == "ambulance" and not sim.units[p.unit_id].busy
        ]
        if not picks:
            return False
        best = min(picks, key=lambda p: (p.travel_s, p.unit_id))
        arrive, _job = sim._start_job(sim.units[best.unit_id], item.call, best, t)
        self._handover(item.call, item.engine_id, item.engine_arrive, arrive)
        return True

    def _handover(self, call: SimCall, engine_id: str, engine_arrive: float, amb: float) -> None:
        self.ambulance_on_scene.append(amb - call.at_s)
        leave = max(engine_arrive, amb) + HANDOVER_S
        self.sim.release(self.sim.units[engine_id], leave, (call.lat, call.lon))

    def figures(self) -> dict[str, Any]:
        """``first_responders`` of the policy's figures."""
        waits = self.ambulance_on_scene
        return {
            "engines_sent": self.engines_sent,
            "ambulances_owed_at_end": len(self.owed),
            "ambulance_on_scene_mean_s": round(float(np.mean(waits)), 1) if waits else None,
            "ambulance_on_scene_within_7min_pct": round(
                100.0 * sum(w <= GOLDEN_TIME_S for w in waits) / len(waits), 2
            )
            if waits
            else None,
        }
