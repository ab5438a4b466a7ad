"""Run each policy of a simulation in its own process (fork), so a day uses both cores.

The world (road network, fleet, demand) and the calls are loaded once in the parent; forked
children share them copy-on-write and return their figures, coverage series and outcomes.
Progress lines from the children come back through a queue and are passed to the parent's
``progress`` as they arrive. The figures are those of the same policy run in one process (the
engine is deterministic and each policy's run is independent).
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Mapping, Sequence
from typing import Any

from simulation.calls import SimCall
from simulation.declared import DeclaredMode
from simulation.engine import Progress, Simulation
from simulation.errors import SimulationError
from simulation.policies import make_policy
from simulation.results import Outcome
from simulation.world import World

PolicyRun = tuple[dict[str, Any], list[dict[str, float]], list[Outcome], float]

# What the forked children read (set in the parent right before the pool starts).
_shared: dict[str, Any] = {}


def run_policy(
    world: World,
    calls: list[SimCall],
    name: str,
    *,
    hours: float,
    progress: Progress | None,
    reserves: Mapping[str, float] | None = None,
    first_responders: tuple[float, float] | None = None,
    declared: DeclaredMode | None = None,
) -> PolicyRun:
    """One policy's figures, coverage series, outcomes and wall seconds."""
    started = time.perf_counter()
    sim = Simulation(
        world,
        calls,
        make_policy(name, world),
        hours=hours,
        move_up=name == "eta+moveup",
        progress=progress,
        label=name,
        reserves=reserves,
        first_responders=first_responders,
        declared=declared,
    )
    figures = sim.run()
    return figures, sim.tracker.series(sim.horizon_s), sim.outcomes, time.perf_counter() - started


def _child(name: str) -> PolicyRun:
    lines: Any = _shared["lines"]
    return run_policy(
        _shared["world"],
        _shared["calls"],
        name,
        hours=_shared["hours"],
        progress=lines.put,
        reserves=_shared["reserves"],
        first_responders=_shared["first_responders"],
        declared=_shared["declared"],
    )


def run_policies(
    world: World,
    calls: list[SimCall],
    names: Sequence[str],
    *,
    hours: float,
    workers: int,
    progress: Progress | None,
    reserves: Mapping[str, float] | None = None,
    first_responders: tuple[float, float] | None = None,
    declared: DeclaredMode | None = None,
) -> dict[str, PolicyRun]:
    """Every policy of ``names``, ``workers`` at a time in forked processes."""
    if "fork" not in multiprocessing.get_all_start_methods():
        raise SimulationError("parallel policies need the fork start method (Linux, macOS)")
    context = multiprocessing.get_context("fork")
    lines = context.Queue()
    _shared.update(
        world=world,
        calls=calls,
        hours=hours,
        lines=lines,
        reserves=reserves,
        first_responders=first_responders,
        declared=declared,
    )
    try:
        with context.Pool(processes=min(workers, len(names))) as pool:
            # the move-up run is the longest: start it first, the others share the other core
            first = sorted(names, key=lambda n: (n != "eta+moveup", list(names).index(n)))
            pending = {name: pool.apply_async(_child, (name,)) for name in first}
            while not all(p.ready() for p in pending.values()):
                _drain(lines, progress, timeout=0.2)
            _drain(lines, progress, timeout=0.0)
            return {name: pending[name].get() for name in names}
    finally:
        _shared.clear()


def _drain(lines: Any, progress: Progress | None, *, timeout: float) -> None:
    try:
        line = lines.get(timeout=timeout) if timeout > 0 else lines.get_nowait()
        while True:
            if progress is not None:
                progress(line)
            line = lines.get_nowait()
    except queue.Empty:
        return
