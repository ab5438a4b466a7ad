"""The declared-surge operating mode: units dispatchable when they clear, nearest waiting call
first within a starvation bound, the same for every policy (on the real Seoul world, one
ambulance)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch.cells import distance_m
from goldentime.contracts import IncidentType
from simulation.calls import SimCall
from simulation.declared import DeclaredMode, Homing, position_en_route
from simulation.engine import Simulation
from simulation.errors import SimulationError
from simulation.policies import POLICIES, make_policy
from simulation.results import Outcome
from simulation.scenario import load_scenario
from simulation.world import World

GWANGHWAMUN = (37.5716, 126.9769)
FAR_AWAY = (37.6543, 127.0568)  # 노원구, some 12 km north-east


def _call(name: str, at_s: float, place: tuple[float, float], *, transport: bool) -> SimCall:
    return SimCall(name, at_s, *place, IncidentType.EMS, "종로구", 50.0, 600.0, transport)


@pytest.fixture(scope="module")
def one_ambulance(world: World) -> World:
    """The world with one ambulance, the one nearest 광화문 (every call waits for it)."""
    ambulances = [v for v in world.fleet if v.kind == "ambulance"]
    unit = min(ambulances, key=lambda v: distance_m(*GWANGHWAMUN, v.lat, v.lon))
    return replace(world, fleet=[unit], _travel={}, _hospital={}, _on_network={})


def _hospital_near(world: World) -> tuple[float, float]:
    hospital, _ = world.hospital_for(GWANGHWAMUN)
    return hospital.lat + 0.002, hospital.lon  # ~220 m north of the emergency room


def _run(
    world: World, calls: list[SimCall], policy: str, declared: DeclaredMode | None
) -> dict[str, Outcome]:
    sim = Simulation(
        world,
        calls,
        make_policy(policy, world),
        hours=3,
        move_up=policy == "eta+moveup",
        declared=declared,
    )
    sim.run()
    assert not sim.waiting
    return {o.call_id: o for o in sim.outcomes}


def _scenario_calls(world: World) -> list[SimCall]:
    """The ambulance carries a patient from 광화문 to the ER; meanwhile a call far away
    (older) and one next to the ER (newer) wait."""
    return [
        _call("first", 60.0, GWANGHWAMUN, transport=True),
        _call("far", 120.0, FAR_AWAY, transport=False),
        _call("near-er", 180.0, _hospital_near(world), transport=False),
    ]


def _cleared_s(world: World) -> float:
    """When the ambulance leaves the ER after the first call (decided at 110 s)."""
    v = world.fleet[0]
    _, to_hospital = world.hospital_for(GWANGHWAMUN)
    travel = world.travel_s((v.lat, v.lon), GWANGHWAMUN, vehicle="ambulance")
    return 110.0 + 60.0 + travel + 600.0 + to_hospital + world.service.handover_s


@pytest.mark.parametrize("policy", POLICIES)
def test_a_unit_clearing_at_the_hospital_takes_the_waiting_call_next_door(
    one_ambulance: World, policy: str
) -> None:
    world = one_ambulance
    calls = _scenario_calls(world)
    cleared = _cleared_s(world)
    declared = DeclaredMode(0.0, 3 * 3600.0, queue_bound_s=4 * 3600.0)
    surge = _run(world, calls, policy, declared)
    # declared (every policy): free at the ER, it takes the call next door first, at once
    assert surge["near-er"].dispatched_s == pytest.approx(cleared, abs=1.0)
    assert surge["near-er"].travel_s < 180.0
    assert surge["far"].dispatched_s > surge["near-er"].dispatched_s

    normal = _run(world, calls, policy, None)
    # normal: free back at its station, first come first served: the far call first
    v = world.fleet[0]
    hospital, _ = world.hospital_for(GWANGHWAMUN)
    home = cleared + world.travel_s((hospital.lat, hospital.lon), (v.lat, v.lon), vehicle=v.kind)
    assert normal["far"].dispatched_s == pytest.approx(home, abs=1.0)
    assert normal["near-er"].dispatched_s > normal["far"].dispatched_s
    assert surge["near-er"].on_scene_s < normal["near-er"].on_scene_s


def test_a_call_waiting_beyond_the_bound_goes_first(one_ambulance: World) -> None:
    world = one_ambulance
    calls = _scenario_calls(world)
    cleared = _cleared_s(world)
    assert cleared - 170.0 > 600.0  # "far" has waited more than 10 min when the unit clears
    declared = DeclaredMode(0.0, 3 * 3600.0, queue_bound_s=600.0)
    out = _run(world, calls, "eta", declared)
    # no starvation: the far call is overdue, so it goes first though the other is next door
    assert out["far"].dispatched_s == pytest.approx(cleared, abs=1.0)
    assert out["near-er"].dispatched_s > out["far"].dispatched_s


def test_a_cleared_unit_is_sent_from_where_it_is_on_the_way_home(one_ambulance: World) -> None:
    world = one_ambulance
    v = world.fleet[0]
    cleared = _cleared_s(world)
    hospital, _ = world.hospital_for(GWANGHWAMUN)
    er = (hospital.lat, hospital.lon)
    drive = world.travel_s(er, (v.lat, v.lon), vehicle=v.kind)
    at_s = cleared + drive / 2 - 50.0  # decided halfway home
    calls = [
        _call("first", 60.0, GWANGHWAMUN, transport=True),
        _call("next", at_s, er, transport=False),
    ]
    declared = DeclaredMode(0.0, 3 * 3600.0)
    out = _run(world, calls, "eta", declared)
    halfway = position_en_route(Homing(er, (v.lat, v.lon), cleared, cleared + drive, 0), at_s + 50)
    expected = world.network.etas_from(halfway, [er], vehicle="ambulance")[0]
    assert expected is not None
    assert out["next"].travel_s == pytest.approx(expected, abs=1.0)
    from_home = world.travel_s((v.lat, v.lon), er, vehicle="ambulance")
    assert out["next"].travel_s < from_home


def test_outside_the_declared_window_the_normal_rules_hold(one_ambulance: World) -> None:
    world = one_ambulance
    calls = _scenario_calls(world)
    later = DeclaredMode(10 * 3600.0, 11 * 3600.0)  # declared long after these calls
    assert _run(world, calls, "eta", later) == _run(world, calls, "eta", None)


def test_position_en_route_and_validation() -> None:
    homing = Homing((37.50, 127.00), (37.60, 127.10), 100.0, 300.0, 1)
    assert position_en_route(homing, 100.0) == pytest.approx((37.50, 127.00))
    assert position_en_route(homing, 200.0) == pytest.approx((37.55, 127.05))
    assert position_en_route(homing, 900.0) == pytest.approx((37.60, 127.10))
    with pytest.raises(SimulationError, match="ordered"):
        DeclaredMode(7200.0, 3600.0)
    with pytest.raises(SimulationError, match="queue_bound_s"):
        DeclaredMode(0.0, 3600.0, queue_bound_s=0.0)


def test_surge_5x_declares_the_surge_for_every_policy() -> None:
    surge = load_scenario("surge-5x").surge
    assert surge is not None
    mode = surge.declared_mode()
    assert mode == DeclaredMode(2 * 3600.0, 4 * 3600.0, queue_bound_s=1200.0)
    assert surge.model_copy(update={"operating_mode": "normal"}).declared_mode() is None
