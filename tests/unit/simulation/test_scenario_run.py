"""`goldentime simulate --scenario`: the JSON contract of both scenario kinds, on short runs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ops.cli import cli
from simulation.scenario import load_scenario
from simulation.scenario_run import run_scenario
from simulation.world import World

SURGE_KEYS = {
    "calls",
    "incidents_in_area",
    "mci",
    "response_level",
    "first_level2_after_s",
    "patients_assigned",
    "max_er_share",
}

SHORT_SURGE = """
name = "short-surge"
hours = 0.75
[traffic]
factor = 0.25
[surge]
factor = 5.0
from_hour = 0
to_hour = 1
"""

SHORT_CROWD = """
name = "short-crowd"
hours = 0.5
start_hour = 22
[traffic]
factor = 0.1
[crowd]
place = "이태원동"
gu = "용산구"
lat = 37.5345
lon = 126.9945
radius_m = 300.0
start_min = 1.0
minutes = 15.0
calls = 25
rate_start = 1.0
rate_end = 2.0
duplicate_share = 0.2
[[crowd.reports]]
what = "falls"
type = "ems"
weight = 2.0
descriptions = ["사람들이 넘어져 깔려 있어요"]
[[crowd.reports]]
what = "crowd"
type = "rescue"
weight = 1.0
descriptions = ["인파에 끼어 움직일 수 없어요"]
[crowd.scene]
triage_at_min = 10.0
red = 3
yellow = 4
green = 5
black = 1
[[nearby]]
type = "building_fire"
at_min = 8.0
bearing_deg = 90.0
distance_m = 150.0
"""


def test_a_surge_scenario_reports_its_window_per_policy(tmp_path: Path, world: World) -> None:
    path = tmp_path / "surge.toml"
    path.write_text(SHORT_SURGE, encoding="utf-8")
    scenario = load_scenario(path)
    report = run_scenario(world, scenario, seed=3, policies=["nearest", "eta+moveup"])
    out = report.to_json()
    assert set(out) == {"nearest", "eta+moveup"}  # no crowd: no `surge`
    calls = [c for c in report.report.calls if c.at_s < 0.75 * 3600]
    for figures in out.values():
        window = figures["surge_window"]
        assert window["incidents"] == len(calls) > 10
        assert (window["from_s"], window["to_s"]) == (0.0, 0.75 * 3600)
        assert 0 <= window["travel_within_5min_pct"] <= window["all_home_within_5min_pct"] + 1e-9
        assert figures["scenario"] == "short-surge" and figures["incidents"] == len(calls)
        assert figures["calls_fingerprint"] == out["nearest"]["calls_fingerprint"]
    json.dumps(out)


def test_simulate_a_crowd_scenario_file_prints_the_surge_object(tmp_path: Path) -> None:
    path = tmp_path / "crowd.toml"
    path.write_text(SHORT_CROWD, encoding="utf-8")
    args = ["simulate", "--scenario", str(path), "--seed", "5", "--json", "--policy", "eta"]
    result = CliRunner().invoke(cli, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"eta", "surge"}
    surge = out["surge"]
    assert set(surge) >= SURGE_KEYS
    assert surge["calls"] == 25 and surge["mci"] is True
    assert surge["incidents_in_area"] <= 2
    assert surge["response_level"] >= 2 and 0 <= surge["first_level2_after_s"] <= 300
    assert surge["patients_assigned"] == 12 and surge["max_er_share"] <= 0.4
    assert surge["nearby_calls_merged"] == 0
    eta = out["eta"]
    assert eta["hours"] == 0.5 and eta["scenario"] == "short-crowd"
    # the policies answer the crowd's incidents, the fire next to it and every patient
    assert eta["incidents"] >= surge["incidents_opened"] + 1 + surge["patients_assigned"]
    assert eta["surge_window"]["incidents"] >= surge["incidents_opened"] + 1


def test_simulate_refuses_a_bad_scenario_with_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--scenario", "stampede"])
    assert result.exit_code == 2 and "--scenario" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nhours = 1\n[surge]\nfactor = 0\nfrom_hour = 0\nto_hour = 1\n')
    result = CliRunner().invoke(cli, ["simulate", "--scenario", str(bad)])
    assert result.exit_code == 2 and "surge.factor" in result.output
    result = CliRunner().invoke(
        cli, ["simulate", "--scenario", "surge-5x", "--calls-per-day", "100"]
    )
    assert result.exit_code == 2 and "--calls-per-day" in result.output


def test_units_off_duty_are_dispatched_only_once_on_duty(world: World) -> None:
    from goldentime.contracts import IncidentType
    from simulation.calls import SimCall
    from simulation.engine import Simulation
    from simulation.policies import make_policy

    ambulances = {v.unit_id: 1000.0 for v in world.fleet if v.kind == "ambulance"}
    call = SimCall("t-0", 60.0, 37.5716, 126.9769, IncidentType.EMS, "종로구", 50.0, 600.0, False)
    sim = Simulation(world, [call], make_policy("eta", world), hours=1, reserves=ambulances)
    figures = sim.run()
    (outcome,) = sim.outcomes
    assert outcome.dispatched_s == 1000.0 and outcome.queued_s == 1000.0 - 110.0
    assert outcome.first_kind == "ambulance" and figures["dispatch_delayed"] == 1
    assert sim.tracker.history[0][1]["ambulance"] < 1e-9  # nobody covers while off duty


def test_a_declared_surge_staffs_reserve_ambulances_at_every_ambulance_station(
    world: World,
) -> None:
    from simulation.scenario_run import reserve_fleet

    surge = load_scenario("surge-5x").surge
    assert surge is not None and surge.reserve_ambulances_per_station == 0  # shipped: none
    staffed = surge.model_copy(update={"reserve_ambulances_per_station": 2})
    extra, on_duty = reserve_fleet(world, staffed)
    ambulances = [v for v in world.fleet if v.kind == "ambulance"]
    assert len(extra) == 2 * len(ambulances)
    assert {v.station_id for v in extra} == {v.station_id for v in ambulances}
    assert set(on_duty.values()) == {2 * 3600.0 + 30 * 60.0}
    assert not {v.unit_id for v in extra} & {v.unit_id for v in world.fleet}


class _Statuses:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []

    def on_call(self, call: object, t: float) -> None:
        return None

    def on_unit(self, unit_id: str, status: str, t: float, *, lat: float, lon: float) -> None:
        self.seen.append((unit_id, status, t))


def test_an_engine_first_responds_and_waits_for_the_ambulance_owed(world: World) -> None:
    from goldentime.contracts import IncidentType
    from simulation.calls import SimCall
    from simulation.engine import Simulation
    from simulation.first_response import HANDOVER_S
    from simulation.policies import make_policy

    ambulances = {v.unit_id: 3000.0 for v in world.fleet if v.kind == "ambulance"}
    call = SimCall("t-0", 60.0, 37.5716, 126.9769, IncidentType.EMS, "종로구", 50.0, 600.0, False)
    seen = _Statuses()
    sim = Simulation(
        world,
        [call],
        make_policy("eta", world),
        hours=2,
        reserves=ambulances,
        first_responders=(0.0, 3600.0),
        observer=seen,
    )
    figures = sim.run()
    (outcome,) = sim.outcomes
    assert outcome.first_kind == "engine" and outcome.dispatched_s == 110.0
    assert outcome.queued_s == 0.0 and outcome.travel_s <= 300.0
    fr = figures["first_responders"]
    assert fr["engines_sent"] == 1 and fr["ambulances_owed_at_end"] == 0
    assert fr["ambulance_on_scene_mean_s"] > 3000.0 - 60.0  # sent when one came on duty
    engine = outcome.first_unit
    on_scene = {u: t for u, s, t in seen.seen if s == "on_scene"}
    ambulance = next(u for u in on_scene if u != engine)
    assert sim.units[ambulance].vehicle.kind == "ambulance"
    leaves = next(t for u, s, t in seen.seen if u == engine and s == "returning")
    assert leaves == on_scene[ambulance] + HANDOVER_S  # held until the ambulance took over


def test_no_first_responder_outside_the_declared_surge_or_with_an_ambulance_near(
    world: World,
) -> None:
    from goldentime.contracts import IncidentType
    from simulation.calls import SimCall
    from simulation.engine import Simulation
    from simulation.policies import make_policy

    near = SimCall("t-0", 60.0, 37.5716, 126.9769, IncidentType.EMS, "종로구", 50.0, 600.0, False)
    late = SimCall("t-1", 4000.0, 37.5716, 126.9769, IncidentType.EMS, "종로구", 50.0, 600.0, False)
    sim = Simulation(
        world, [near, late], make_policy("eta", world), hours=2, first_responders=(0.0, 3600.0)
    )
    figures = sim.run()
    assert [o.first_kind for o in sim.outcomes] == ["ambulance", "ambulance"]
    assert figures["first_responders"]["engines_sent"] == 0
