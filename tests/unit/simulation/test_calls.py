"""The seeded call generator."""

from __future__ import annotations

from collections import Counter

import pytest
import shapely

from goldentime.contracts import IncidentType
from simulation.calls import generate_calls
from simulation.demand import area_hull
from simulation.errors import SimulationError
from simulation.run import calls_fingerprint
from simulation.world import World


def test_same_seed_same_calls_other_seed_other_calls(world: World) -> None:
    a = generate_calls(world.demand, world.places, hours=24, seed=7, calls_per_day=600)
    b = generate_calls(world.demand, world.places, hours=24, seed=7, calls_per_day=600)
    c = generate_calls(world.demand, world.places, hours=24, seed=8, calls_per_day=600)
    assert a == b
    assert calls_fingerprint(a) == calls_fingerprint(b) != calls_fingerprint(c)


def test_calls_follow_rates_types_and_area(world: World) -> None:
    calls = generate_calls(world.demand, world.places, hours=24, seed=3, calls_per_day=3000)
    expected = sum(world.demand.incidents_per_day(calls_per_day=3000).values())
    assert abs(len(calls) - expected) < 4 * expected**0.5  # Poisson, 4 sigma
    assert [c.at_s for c in calls] == sorted(c.at_s for c in calls)
    assert all(0 <= c.at_s < 24 * 3600 for c in calls)
    kinds = Counter(c.type for c in calls)
    assert kinds[IncidentType.EMS] > kinds[IncidentType.RESCUE] > 0
    hull = area_hull(world.network)
    xs, ys = world.network.index.to_metres.transform([c.lon for c in calls], [c.lat for c in calls])
    assert all(shapely.contains_xy(shapely.buffer(hull, 250), xs, ys))
    on_roads = [c for c in calls[:200] if c.type is not IncidentType.BUILDING_FIRE]
    assert all(world.network.snap((c.lat, c.lon)).distance_m < 60 for c in on_roads)
    fires = {p for p in world.places.fires}
    assert all((c.lat, c.lon) in fires for c in calls if c.type is IncidentType.BUILDING_FIRE)
    assert all(not c.transport for c in calls if c.type is not IncidentType.EMS)
    night = sum(1 for c in calls if 3 * 3600 <= c.at_s < 6 * 3600)
    afternoon = sum(1 for c in calls if 13 * 3600 <= c.at_s < 16 * 3600)
    assert afternoon > night


def test_bad_hours_and_rates_are_refused(world: World) -> None:
    with pytest.raises(SimulationError, match="hours"):
        generate_calls(world.demand, world.places, hours=0, seed=1)
    with pytest.raises(SimulationError, match="calls per day"):
        generate_calls(world.demand, world.places, hours=1, seed=1, calls_per_day=-5)
