"""Run a scenario (`simulation.scenario`): its traffic under every policy, and its crowd.

- The ordinary traffic (and a ``[surge]``) is the scenario's demand model, generated and
  replayed under each policy exactly as `simulation.run.simulate` does (same calls, same
  service draws for every policy).
- A ``[crowd]`` is replayed first, with the ordinary calls and the ``[[nearby]]`` ones, in time
  order through the live worker's correlation (`simulation.mci_replay`): that gives the
  ``surge`` figures (incidents in the area, MCI, response level, patients per ER). The
  incidents the crowd's calls opened and the patients then join the dispatched calls: each
  incident with its type's run card when it opened, each patient as an ambulance carrying them
  to the emergency room assigned. So the per-policy figures show the city's response while
  the MCI draws ambulances.
- A ``[surge]`` may staff reserve ambulances when it is declared
  (``reserve_ambulances_per_station``, ``reserve_after_min``): every policy gets them, on duty
  at their stations from that second (`simulation.engine.Simulation`'s ``reserves``).
- A ``[surge]`` with ``operating_mode = "declared"`` runs every policy under the declared-surge
  rules (`simulation.declared`): units dispatchable when they clear, nearest waiting call first
  within a starvation bound.
- ``surge_window`` (per policy): the figures of the calls made during the surge hours (or
  during the crowd's minutes), `simulation.results.window_summary`, with
  ``all_home_within_5min_pct``: the share of those calls a unit of their run card reaches
  within 5 min from its home station when every unit is free (`simulation.reach`), the ceiling
  of ``travel_within_5min_pct`` for any policy dispatching from the stations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dispatch.fleet import Vehicle
from simulation.calls import generate_calls
from simulation.engine import Progress
from simulation.reach import within_from_home
from simulation.results import window_summary
from simulation.run import SimulationReport, simulate
from simulation.scenario import Scenario, SurgeSpec
from simulation.world import World


@dataclass
class ScenarioReport:
    """The per-policy report of a scenario, its surge-window figures and its crowd's."""

    scenario: Scenario
    report: SimulationReport
    surge: dict[str, Any] | None = None
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{policy: figures + surge_window + scenario}`` and, with a crowd, ``surge``."""
        out: dict[str, Any] = self.report.to_json()
        for name, figures in out.items():
            figures["scenario"] = self.scenario.name
            if name in self.windows:
                figures["surge_window"] = self.windows[name]
        if self.surge is not None:
            out["surge"] = self.surge
        return out


def surge_window_s(scenario: Scenario, hours: float) -> tuple[float, float] | None:
    """The scenario seconds whose calls ``surge_window`` measures (cut to the run's hours)."""
    if scenario.surge is not None:
        start, end = scenario.surge.window_s
    elif scenario.crowd is not None:
        start, end = scenario.crowd.window_s
    else:
        return None
    end = min(end, hours * 3600.0)
    return (start, end) if start < end else None


def reserve_fleet(world: World, surge: SurgeSpec) -> tuple[list[Vehicle], dict[str, float]]:
    """The reserve ambulances a declared surge staffs: ``reserve_ambulances_per_station`` at
    every station housing an ambulance, on duty ``reserve_after_min`` after the surge starts
    (vehicles and their second on duty, by unit id)."""
    on_duty = surge.window_s[0] + 60.0 * surge.reserve_after_min
    extra: list[Vehicle] = []
    for v in world.fleet:
        if v.kind != "ambulance":
            continue
        for n in range(1, surge.reserve_ambulances_per_station + 1):
            extra.append(replace(v, unit_id=f"{v.unit_id}-reserve{n}", name=f"{v.name} 예비{n}"))
    return extra, {v.unit_id: on_duty for v in extra}


def run_scenario(
    world: World,
    scenario: Scenario,
    *,
    hours: float | None = None,
    seed: int,
    policies: Sequence[str] = (),
    workers: int = 1,
    progress: Progress | None = None,
) -> ScenarioReport:
    """The scenario's figures (see the module doc); ``hours`` None: the scenario's own."""
    hours = scenario.hours if hours is None else hours
    demand = scenario.demand(world.demand)
    surge: dict[str, Any] | None = None
    extra = []
    if scenario.crowd is not None:
        from simulation.mci_replay import replay_crowd

        ordinary = generate_calls(
            demand, world.places, hours=hours, seed=seed, service=world.service
        )
        crowd = replay_crowd(world, scenario, ordinary, hours=hours, seed=seed)
        surge, extra = crowd.figures(), crowd.dispatched
        if progress is not None:
            progress(f"crowd: {crowd.summary()}")
    reserves: dict[str, float] = {}
    if scenario.surge is not None and scenario.surge.reserve_ambulances_per_station:
        extra_units, reserves = reserve_fleet(world, scenario.surge)
        world = replace(world, fleet=[*world.fleet, *extra_units])
        if progress is not None:
            progress(
                f"surge: {len(extra_units)} reserve ambulances on duty at "
                f"{min(reserves.values()) / 3600:g} h"
            )
    report = simulate(
        world,
        hours=hours,
        seed=seed,
        policies=policies,
        demand=demand,
        extra_calls=extra,
        reserves=reserves,
        first_responders=scenario.surge.window_s
        if scenario.surge is not None and scenario.surge.first_responder_engines
        else None,
        declared=scenario.surge.declared_mode() if scenario.surge is not None else None,
        progress=progress,
        workers=workers,
    )
    out = ScenarioReport(scenario, report, surge=surge)
    window = surge_window_s(scenario, hours)
    if window is not None:
        times = {c.call_id: c.at_s for c in report.calls}
        ceiling = within_from_home(
            world, [c for c in report.calls if window[0] <= c.at_s < window[1]]
        )
        for name, outcomes in report.outcomes.items():
            figures = window_summary(times, outcomes, start_s=window[0], end_s=window[1])
            out.windows[name] = figures | {"all_home_within_5min_pct": ceiling}
    return out
