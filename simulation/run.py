"""Run every asked policy on the same seeded calls and collect the results."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulation.calls import SimCall, generate_calls
from simulation.engine import Progress, Simulation
from simulation.errors import SimulationError
from simulation.policies import make_policy, parse_policies
from simulation.results import Outcome
from simulation.world import World


def calls_fingerprint(calls: Sequence[SimCall]) -> str:
    """A short hash of the calls (time, place, type, service draws): equal for equal calls."""
    digest = hashlib.sha256()
    for c in calls:
        digest.update(
            f"{c.call_id}|{c.at_s:.3f}|{c.lat}|{c.lon}|{c.type.value}|{c.processing_s:.3f}|"
            f"{c.scene_s:.3f}|{c.transport}\n".encode()
        )
    return digest.hexdigest()[:16]


@dataclass
class SimulationReport:
    """Per-policy figures plus what they were measured on."""

    hours: float
    seed: int
    calls: list[SimCall]
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    series: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{policy: figures}`` with the shared call fingerprint inside each policy."""
        fingerprint = calls_fingerprint(self.calls)
        return {
            name: {
                **figures,
                "calls_fingerprint": fingerprint,
                "seed": self.seed,
                "hours": self.hours,
                "wall_s": round(self.wall_s[name], 2),
            }
            for name, figures in self.results.items()
        }


def simulate(
    world: World,
    *,
    hours: float,
    seed: int,
    policies: Sequence[str] = (),
    calls_per_day: float | None = None,
    progress: Progress | None = None,
) -> SimulationReport:
    """Generate the calls once and replay them under each policy (discrete-event)."""
    names = parse_policies(policies)
    calls = generate_calls(
        world.demand,
        world.places,
        hours=hours,
        seed=seed,
        calls_per_day=calls_per_day,
        service=world.service,
    )
    if progress is not None:
        progress(
            f"{len(calls)} dispatched calls over {hours:g} h (seed {seed}); "
            f"policies: {', '.join(names)}"
        )
    report = SimulationReport(hours=hours, seed=seed, calls=calls)
    for name in names:
        started = time.perf_counter()
        sim = Simulation(
            world,
            calls,
            make_policy(name, world),
            hours=hours,
            move_up=name == "eta+moveup",
            progress=progress,
            label=name,
        )
        report.results[name] = sim.run()
        report.series[name] = sim.tracker.series(sim.horizon_s)
        report.outcomes[name] = sim.outcomes
        report.wall_s[name] = time.perf_counter() - started
        if report.results[name]["incidents"] != len(calls):
            raise SimulationError(
                f"{name}: {report.results[name]['incidents']} outcomes for {len(calls)} calls"
            )
    return report
