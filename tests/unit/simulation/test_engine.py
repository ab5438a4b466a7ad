"""The discrete-event engine and the policies, on hand-made calls over the real central area."""

from __future__ import annotations

import pytest

from dispatch.cells import distance_m
from goldentime.contracts import IncidentType
from routing import UnitPosition
from simulation.calls import SimCall
from simulation.engine import Simulation
from simulation.errors import SimulationError
from simulation.policies import make_policy, parse_policies
from simulation.world import World

GWANGHWAMUN = (37.5716, 126.9769)


def call(
    n: int,
    at_s: float,
    place: tuple[float, float],
    kind: IncidentType = IncidentType.EMS,
    *,
    scene_s: float = 900.0,
    transport: bool = False,
) -> SimCall:
    return SimCall(f"t-{n}", at_s, place[0], place[1], kind, "종로구", 50.0, scene_s, transport)


def run(world: World, calls: list[SimCall], policy: str) -> Simulation:
    sim = Simulation(
        world, calls, make_policy(policy, world), hours=2, move_up=policy == "eta+moveup"
    )
    sim.figures = sim.run()  # type: ignore[attr-defined]
    return sim


def test_one_ems_call_is_answered_by_the_fastest_ambulance(world: World) -> None:
    sim = run(world, [call(0, 600.0, GWANGHWAMUN)], "eta")
    (outcome,) = sim.outcomes
    ambulances = [
        UnitPosition(v.unit_id, v.lat, v.lon, vehicle="ambulance")
        for v in world.fleet
        if v.kind == "ambulance"
    ]
    best = world.network.etas(GWANGHWAMUN, ambulances, cutoff_s=1800, top_n_routes=0)[0]
    assert outcome.first_unit == best.unit_id
    assert outcome.travel_s == pytest.approx(best.eta_s, abs=0.1)
    assert outcome.on_scene_s == pytest.approx(50.0 + 60.0 + outcome.travel_s, abs=0.1)
    assert outcome.dispatched_s == pytest.approx(650.0)
    assert sim.figures["incidents"] == 1  # type: ignore[attr-defined]
    assert not any(u.busy for u in sim.units.values())  # every unit came home


def test_nearest_sends_the_units_of_the_nearest_station_by_straight_line(world: World) -> None:
    sim = run(world, [call(0, 60.0, GWANGHWAMUN)], "nearest")
    (outcome,) = sim.outcomes
    station = world.stations[sim.units[outcome.first_unit].vehicle.station_id]
    with_ambulance = [s for s in world.stations.values() if "ambulance" in s.kinds]
    nearest = min(with_ambulance, key=lambda s: distance_m(*GWANGHWAMUN, s.lat, s.lon))
    assert station.station_id == nearest.station_id


def test_more_calls_than_ambulances_wait_and_are_all_served(world: World) -> None:
    n_amb = sum(1 for v in world.fleet if v.kind == "ambulance")
    calls = [call(n, 100.0 + n, GWANGHWAMUN, scene_s=1200.0) for n in range(n_amb + 3)]
    sim = run(world, calls, "eta")
    assert len(sim.outcomes) == len(calls) and not sim.waiting
    queued = [o for o in sim.outcomes if o.queued_s > 0]
    assert len(queued) == 3
    assert all(o.dispatched_s > 100.0 + 1200.0 for o in queued)  # after a unit came back
    assert sim.figures["dispatch_delayed"] == 3  # type: ignore[attr-defined]


def test_moveup_refills_a_hole_and_units_return_home(world: World) -> None:
    calls = [call(n, 60.0 + 5 * n, GWANGHWAMUN, scene_s=1800.0) for n in range(3)]
    plain = run(world, calls, "eta")
    moved = run(world, calls, "eta+moveup")
    assert plain.figures["moveups"] == 0  # type: ignore[attr-defined]
    assert moved.figures["moveups"] >= 1  # type: ignore[attr-defined]
    cov_plain = plain.figures["coverage"]["ambulance"]["mean_pct"]  # type: ignore[attr-defined]
    cov_moved = moved.figures["coverage"]["ambulance"]["mean_pct"]  # type: ignore[attr-defined]
    assert cov_moved > cov_plain
    assert all(u.post is None for u in moved.units.values())  # moved back once all were free
    assert all(u.lat == u.vehicle.lat for u in moved.units.values() if not u.relocating)


def test_fire_gets_the_run_card_and_policies_parse(world: World) -> None:
    sim = run(world, [call(0, 60.0, GWANGHWAMUN, IncidentType.BUILDING_FIRE)], "eta")
    (outcome,) = sim.outcomes
    assert outcome.units_sent == sum(world.catalog[IncidentType.BUILDING_FIRE].run_card.values())
    assert parse_policies([]) == ["nearest", "eta", "eta+moveup"]
    assert parse_policies(["eta+moveup,nearest"]) == ["nearest", "eta+moveup"]
    with pytest.raises(SimulationError, match="unknown policy fastest"):
        parse_policies(["fastest"])


GODEOK = (37.5551, 127.1543)  # 강동구 고덕동: not in the standard node-link cut


def test_a_gangdong_call_is_served_by_the_approach_estimate(world: World) -> None:
    calls = [
        SimCall("t-0", 60.0, GODEOK[0], GODEOK[1], IncidentType.EMS, "강동구", 50.0, 900.0, False),
        call(1, 90.0, GWANGHWAMUN),
    ]
    for policy in ("nearest", "eta"):
        sim = run(world, calls, policy)
        gangdong = next(o for o in sim.outcomes if o.gu == "강동구")
        assert gangdong.estimated and 0 < gangdong.travel_s < 1200
        assert not next(o for o in sim.outcomes if o.gu == "종로구").estimated
        by_gu = sim.figures["by_gu"]  # type: ignore[attr-defined]
        assert by_gu["강동구"]["on_network"] is False and by_gu["강동구"]["incidents"] == 1
        assert by_gu["종로구"]["on_network"] is True
        assert sim.figures["estimated_incidents"] == 1  # type: ignore[attr-defined]
