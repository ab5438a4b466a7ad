"""The seeded call generator."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely

from goldentime.contracts import IncidentType
from goldentime.settings import load_settings
from simulation.calls import generate_calls
from simulation.demand import Surge, gu_polygons
from simulation.errors import SimulationError
from simulation.run import calls_fingerprint
from simulation.world import World


def test_same_seed_same_calls_other_seed_other_calls(world: World) -> None:
    demand = world.demand
    a = generate_calls(demand, world.places, hours=3, seed=7)
    b = generate_calls(demand, world.places, hours=3, seed=7)
    c = generate_calls(demand, world.places, hours=3, seed=8)
    assert a == b
    assert calls_fingerprint(a) == calls_fingerprint(b) != calls_fingerprint(c)


def test_calls_follow_rates_types_and_gu(world: World) -> None:
    calls = generate_calls(world.demand, world.places, hours=24, seed=3)
    expected = sum(world.demand.incidents_per_day().values())
    assert abs(len(calls) - expected) < 4 * expected**0.5  # Poisson, 4 sigma
    assert [c.at_s for c in calls] == sorted(c.at_s for c in calls)
    assert all(0 <= c.at_s < 24 * 3600 for c in calls)
    kinds = Counter(c.type for c in calls)
    assert kinds[IncidentType.EMS] > kinds[IncidentType.RESCUE] > kinds[IncidentType.BUILDING_FIRE]
    by_gu = Counter(c.gu for c in calls)
    assert set(by_gu) == set(world.demand.gus)  # every gu of Seoul, 강동구 included
    assert by_gu["송파구"] > by_gu["중구"]  # 655k residents vs 121k
    boundaries = load_settings().data.seoul_dir / "boundaries" / "seoul_gu.geojson"
    polygons = gu_polygons(boundaries, world.network)
    sample = calls[::20]
    xs, ys = world.network.index.to_metres.transform(
        [c.lon for c in sample], [c.lat for c in sample]
    )
    for call, x, y in zip(sample, xs, ys, strict=True):
        near = shapely.buffer(polygons[call.gu], 100)  # fires: the real address point
        assert shapely.contains_xy(near, x, y), call
    on_roads = [c for c in sample if c.type is not IncidentType.BUILDING_FIRE and c.gu != "강동구"]
    assert all(world.network.approaches.road_distance_m(c.lat, c.lon) < 1 for c in on_roads)
    assert all(not c.transport for c in calls if c.type is not IncidentType.EMS)
    night = sum(1 for c in calls if 3 * 3600 <= c.at_s < 6 * 3600)
    afternoon = sum(1 for c in calls if 13 * 3600 <= c.at_s < 16 * 3600)
    assert afternoon > night


def test_a_surge_adds_calls_where_and_when_asked(world: World) -> None:
    base = generate_calls(world.demand, world.places, hours=2, seed=5)
    surge = Surge(world.demand, 10.0, gus=frozenset({"마포구"}), hours=(1, 2))
    hot = generate_calls(surge, world.places, hours=2, seed=5)
    late_mapo = [c for c in hot if c.gu == "마포구" and c.at_s >= 3600]
    assert len(late_mapo) > 5 * max(1, sum(1 for c in base if c.gu == "마포구" and c.at_s >= 3600))


def test_bad_hours_and_unknown_gu_are_refused(world: World) -> None:
    with pytest.raises(SimulationError, match="hours"):
        generate_calls(world.demand, world.places, hours=0, seed=1)
    with pytest.raises(SimulationError, match="not in the simulated area"):
        world.places.point(np.random.default_rng(1), "부산진구")
