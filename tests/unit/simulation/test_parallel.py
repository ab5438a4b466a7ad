"""Policies in forked processes give the figures of one process, and their progress."""

from __future__ import annotations

import pytest

from simulation.errors import SimulationError
from simulation.run import simulate
from simulation.world import World


def test_two_workers_give_the_same_figures(world: World) -> None:
    lines: list[str] = []
    one = simulate(world, hours=1, seed=5, policies=["nearest", "eta+moveup"])
    two = simulate(
        world, hours=1, seed=5, policies=["nearest", "eta+moveup"], workers=2,
        progress=lines.append,
    )  # fmt: skip
    assert list(two.results) == ["nearest", "eta+moveup"]
    assert one.to_json().keys() == two.to_json().keys()
    for name in one.results:
        assert one.results[name] == two.results[name]
        assert one.outcomes[name] == two.outcomes[name]
        assert one.series[name] == two.series[name]
    assert any(line.startswith("[eta+moveup]") for line in lines)  # from the child process
    with pytest.raises(SimulationError, match="workers"):
        simulate(world, hours=0.5, seed=5, workers=0)
