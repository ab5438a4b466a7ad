"""The simulation's move-up search: fill the emptied station that matters most."""

from __future__ import annotations

import pytest

from dispatch.cells import distance_m
from routing import UnitPosition
from simulation.coverage import demand_weights
from simulation.moveup import StationReach, plan_moves
from simulation.world import World

GWANGHWAMUN = (37.5716, 126.9769)


def test_an_emptied_station_is_filled_by_a_neighbour(world: World) -> None:
    ambulances = [
        UnitPosition(v.unit_id, v.lat, v.lon, vehicle="ambulance", name=v.name)
        for v in world.fleet
        if v.kind == "ambulance"
    ]
    model = world.network.coverage(ambulances, minutes=5, vehicle="ambulance")
    busy = min(ambulances, key=lambda u: distance_m(*GWANGHWAMUN, u.lat, u.lon))
    model.set_available(busy.unit_id, False)
    before = model.covered_length_m
    reach = StationReach(world.network, "ambulance", 5.0)
    (move,) = plan_moves(model, world.station_positions("ambulance"), reach, max_moves=1)
    home = next(v.station_id for v in world.fleet if v.unit_id == busy.unit_id)
    assert move.station.unit_id == home  # the only emptied station: the busy unit's own
    assert move.unit_id != busy.unit_id and move.gain > 0
    # the move is applied to the model; with lengths as values its gain is metres of road
    assert model.covered_length_m == pytest.approx(before + move.gain, abs=1.0)
    assert plan_moves(model, [], reach) == []  # no target, no move


def test_demand_weights_spread_each_gu_rate_over_its_roads(world: World) -> None:
    weights = demand_weights(world)
    assert weights.shape == world.network.index.seg_length.shape and weights.min() >= 0
    on_network = {g for g, a in world.demand.gus.items() if a.on_network}
    expected = sum(sum(r.values()) for g, r in world.demand.per_day().items() if g in on_network)
    assert weights.sum() == pytest.approx(expected)
