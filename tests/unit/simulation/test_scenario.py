"""Scenario files (TOML) and the calls of a crowd: loading, validation, generation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dispatch.cells import distance_m
from goldentime.contracts import IncidentType
from simulation.crowd import crowd_calls, nearby_calls, rising_times
from simulation.demand import Shifted, Surge
from simulation.scenario import ScenarioError, load_scenario, scenario_names, scenario_path
from simulation.world import World

SMALL = """
name = "small-crowd"
hours = 0.5
start_hour = 22
[crowd]
place = "이태원동"
gu = "용산구"
lat = 37.5345
lon = 126.9945
radius_m = 300.0
start_min = 2.0
minutes = 20.0
calls = 20
rate_start = 1.0
rate_end = 2.0
duplicate_share = 0.2
[[crowd.reports]]
what = "falls"
type = "ems"
weight = 1.0
descriptions = ["3명 쓰러짐"]
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_scenarios_load_by_name_and_by_path() -> None:
    assert scenario_names() == ["crowd-crush", "surge-5x"]
    crush = load_scenario("crowd-crush")
    assert crush.crowd is not None and crush.crowd.calls == 100 and crush.crowd.minutes == 75
    assert crush.crowd.duplicate_share == 0.2 and crush.crowd.error_m == (50.0, 300.0)
    assert {r.type for r in crush.crowd.reports} == {
        IncidentType.EMS,
        IncidentType.CARDIAC_ARREST,
        IncidentType.RESCUE,
        IncidentType.OTHER,
    }
    assert {n.type for n in crush.nearby} == {
        IncidentType.BUILDING_FIRE,
        IncidentType.TRAFFIC_COLLISION,
    }
    surge = load_scenario(scenario_path("surge-5x"))
    assert surge.surge is not None and surge.surge.factor == 5.0
    assert (surge.surge.from_hour, surge.surge.to_hour, surge.hours) == (2, 4, 6.0)
    assert load_scenario(str(scenario_path("surge-5x"))) == surge


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('name = "x"\nhours = 2\n[surge]\nfactor = 5\nfrom_hour = 3\nto_hour = 2\n', "surge"),
        ('name = "x"\nhours = 2\n[surge]\nfactor = -1\nfrom_hour = 0\nto_hour = 2\n', "factor"),
        ('name = "x"\nhours = 2\ncolour = "red"\n', "colour"),
        (SMALL.replace('type = "ems"', 'type = "stampede"'), "crowd.reports.0.type"),
        (SMALL.replace("calls = 20", "calls = 0"), "crowd.calls"),
        (
            'name = "x"\nhours = 2\n[[nearby]]\ntype = "fire"\nat_min = 1\nbearing_deg = 0\n'
            "distance_m = 5\n",
            "(file)",
        ),
        ("name = \n", "cannot read"),
    ],
)
def test_a_bad_scenario_file_names_the_file_and_the_field(
    tmp_path: Path, text: str, field: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value) and field in str(caught.value)


def test_an_unknown_name_lists_the_shipped_scenarios() -> None:
    with pytest.raises(ScenarioError, match="crowd-crush, surge-5x"):
        load_scenario("stampede")
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario("nowhere/crowd.toml")


def test_the_surge_multiplies_the_rates_in_its_hours_only(world: World) -> None:
    scenario = load_scenario("surge-5x")
    demand = scenario.demand(world.demand)
    assert isinstance(demand, Surge)
    base = world.demand
    for hour in range(6):
        factor = 5.0 if 2 <= hour < 4 else 1.0
        got, want = demand.expected(hour), base.expected(hour)
        assert got.keys() == want.keys()
        assert all(math.isclose(got[k], factor * want[k]) for k in want)


def test_a_scenario_starting_in_the_evening_has_the_evening_traffic(
    tmp_path: Path, world: World
) -> None:
    demand = load_scenario(write(tmp_path, SMALL)).demand(world.demand)
    assert isinstance(demand, Shifted)
    assert demand.expected(0) == world.demand.expected(22)
    assert demand.expected(3) == world.demand.expected(1)  # past midnight


def test_the_crowd_calls_rise_repeat_and_stay_near_the_place() -> None:
    crowd = load_scenario("crowd-crush").crowd
    assert crowd is not None
    calls = crowd_calls(crowd, seed=5)
    assert calls == crowd_calls(crowd, seed=5)  # deterministic
    assert calls != crowd_calls(crowd, seed=6)
    assert len(calls) == 100 and [c.at_s for c in calls] == sorted(c.at_s for c in calls)
    start, end = crowd.window_s
    assert start <= calls[0].at_s and calls[-1].at_s <= end
    middle = (start + end) / 2
    assert sum(c.at_s >= middle for c in calls) > sum(c.at_s < middle for c in calls)  # rising
    repeats = [c for c in calls if c.repeat]
    assert len(repeats) == 20 and not calls[0].repeat
    callers = {c.caller for c in calls}
    assert len(callers) == 80
    for c in repeats:
        first = next(o for o in calls if o.caller == c.caller and not o.repeat)
        assert (c.true_lat, c.true_lon, c.type) == (first.true_lat, first.true_lon, first.type)
    for c in calls:
        assert distance_m(c.true_lat, c.true_lon, crowd.lat, crowd.lon) <= crowd.radius_m + 1
        error = distance_m(c.lat, c.lon, c.true_lat, c.true_lon)
        assert 50 - 1 <= error <= 300 + 1
        assert c.uncertainty_m is not None and c.uncertainty_m >= error - 1
    body = calls[0].call_body(run_id="r1")
    assert body["id"] == "r1-crowd-000" and body["location_uncertainty_m"] == calls[0].uncertainty_m
    assert body["caller"] == calls[0].caller and body["type"] == calls[0].type.value


def test_rising_times_follow_a_linear_rate() -> None:
    import numpy as np

    crowd = load_scenario("crowd-crush").crowd
    assert crowd is not None
    big = crowd.model_copy(update={"calls": 20_000, "rate_start": 1.0, "rate_end": 3.0})
    times = np.array(rising_times(np.random.default_rng(1), big))
    start, end = big.window_s
    first, last = (
        np.sum(times < start + (end - start) / 4),
        np.sum(times >= end - (end - start) / 4),
    )
    # rate 1 -> 3: the first quarter holds (1 + 1.5) / 2 / 2 / 4 = 15.6 %, the last 34.4 %
    assert first / 20_000 == pytest.approx(0.15625, abs=0.01)
    assert last / 20_000 == pytest.approx(0.34375, abs=0.01)


def test_nearby_calls_are_placed_by_bearing_and_distance() -> None:
    scenario = load_scenario("crowd-crush")
    assert scenario.crowd is not None
    calls = nearby_calls(scenario.crowd, scenario.nearby)
    assert [c.type for c in calls] == [n.type for n in scenario.nearby]
    for call, spec in zip(calls, scenario.nearby, strict=True):
        assert distance_m(call.lat, call.lon, scenario.crowd.lat, scenario.crowd.lon) == (
            pytest.approx(spec.distance_m, abs=1.0)
        )
        assert not call.crowd and call.uncertainty_m is None and call.at_s == spec.at_min * 60
