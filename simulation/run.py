"""Run every asked policy on the same seeded calls and collect the results."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulation.calls import SimCall, generate_calls
from simulation.declared import DeclaredMode
from simulation.demand import DemandModel
from simulation.engine import Progress
from simulation.errors import SimulationError
from simulation.parallel import run_policies, run_policy
from simulation.policies import parse_policies
from simulation.results import Outcome
from simulation.statistics import PublishedFigure
from simulation.world import World


def demand_for(
    world: World, *, demand: DemandModel | None = None, calls_per_day: float | None = None
) -> DemandModel:
    """The demand model of a run: ``demand``, else the world's rescaled to ``calls_per_day``."""
    if demand is not None:
        if calls_per_day is not None:
            raise SimulationError("give either a demand model or calls per day, not both")
        return demand
    if calls_per_day is None:
        return world.demand
    return world.demand.with_calls_per_day(calls_per_day)


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
    network: str = ""  # the road network's source
    published: list[PublishedFigure] = field(default_factory=list)

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
                "network": self.network,
                "seoul_published_fire_within_7min_pct": {
                    p.period: p.within_7min_pct for p in self.published
                },
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
    demand: DemandModel | None = None,
    extra_calls: Sequence[SimCall] = (),
    reserves: Mapping[str, float] | None = None,
    first_responders: tuple[float, float] | None = None,
    declared: DeclaredMode | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> SimulationReport:
    """Generate the calls once and replay them under each policy (discrete-event).

    ``demand``: the demand model (default: the statistics', ``world.demand``, rescaled to
    ``calls_per_day`` 119 calls a day when given); a scenario passes its own (`Surge`).
    ``extra_calls``: calls of the scenario beyond the demand model's (a crowd's incidents, an
    MCI's patients), merged in time order. ``reserves``: units of ``world.fleet`` off duty until
    the second given, ``first_responders``: the seconds engines first-respond to EMS calls
    (`simulation.engine.Simulation`), ``declared``: the declared-surge operating mode of every
    policy (`simulation.declared`). ``workers`` > 1: the policies run in
    that many forked processes (`simulation.parallel`), with the same figures.
    """
    if workers < 1:
        raise SimulationError(f"workers must be >= 1, got {workers}")
    names = parse_policies(policies)
    calls = generate_calls(
        demand_for(world, demand=demand, calls_per_day=calls_per_day),
        world.places,
        hours=hours,
        seed=seed,
        service=world.service,
    )
    if extra_calls:
        ids = {c.call_id for c in calls}
        clash = [c.call_id for c in extra_calls if c.call_id in ids]
        if clash or len({c.call_id for c in extra_calls}) != len(extra_calls):
            raise SimulationError(f"extra calls reuse call ids: {clash[:3] or 'among themselves'}")
        calls = sorted([*calls, *extra_calls], key=lambda c: (c.at_s, c.call_id))
    if progress is not None:
        progress(
            f"{len(calls)} dispatched calls over {hours:g} h (seed {seed}); "
            f"policies: {', '.join(names)}"
        )
    report = SimulationReport(
        hours=hours, seed=seed, calls=calls, network=world.network_name, published=world.published
    )
    if workers > 1 and len(names) > 1:
        runs = run_policies(
            world,
            calls,
            names,
            hours=hours,
            workers=workers,
            progress=progress,
            reserves=reserves,
            first_responders=first_responders,
            declared=declared,
        )
    else:
        runs = {
            name: run_policy(
                world,
                calls,
                name,
                hours=hours,
                progress=progress,
                reserves=reserves,
                first_responders=first_responders,
                declared=declared,
            )
            for name in names
        }
    for name in names:
        figures, series, outcomes, wall = runs[name]
        if figures["incidents"] != len(calls):
            raise SimulationError(f"{name}: {figures['incidents']} outcomes for {len(calls)} calls")
        report.results[name], report.series[name] = figures, series
        report.outcomes[name], report.wall_s[name] = outcomes, wall
    return report
