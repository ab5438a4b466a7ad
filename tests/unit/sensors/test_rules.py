"""The rules engine: hysteresis, faults apart from alarms, windows, rates, redelivery."""

from __future__ import annotations

import random
from itertools import pairwise
from typing import Any

import pytest

from goldentime.contracts.sensors import AlarmLevel, FaultKind, SensorAlarm, SensorReading
from sensors.errors import UnknownSensorError
from sensors.registry import SensorRegistry
from sensors.rules import RulesEngine
from sensors.scenario import generate_jamsu_flood

WL1, WL2, WIND, ACC, TEMP = (
    "han-jamsu.wl1", "han-jamsu.wl2", "han-jamsu.wind1", "han-jamsu.acc1", "tn-sajik.temp1"
)  # fmt: skip
CRITICAL, WARNING, WATCH, CLEAR = (
    AlarmLevel.CRITICAL, AlarmLevel.WARNING, AlarmLevel.WATCH, AlarmLevel.CLEAR
)  # fmt: skip


def run(engine: RulesEngine, readings: list[SensorReading]) -> list[SensorAlarm]:
    return [alarm for r in readings for alarm in engine.process(r)]


def levels(alarms: list[SensorAlarm], rule: str = "level") -> list[tuple[str, str]]:
    return [(a.previous_level.value, a.level.value) for a in alarms if a.rule == rule]


def test_noisy_level_around_a_threshold_does_not_flap(
    registry: SensorRegistry, reading: Any
) -> None:
    rng = random.Random(3)
    values = [5.5 + rng.uniform(-0.15, 0.15) for _ in range(240)]
    naive_crossings = sum((a >= 5.5) != (b >= 5.5) for a, b in pairwise(values))
    assert naive_crossings > 50  # the signal really is noisy around 5.5 m
    engine = RulesEngine(registry)
    alarms = run(engine, [reading(WL1, v, m) for m, v in enumerate(values)])
    assert levels(alarms) == [("clear", "watch"), ("watch", "warning")]
    assert engine.structure_level("han-jamsu") is WARNING


def test_level_clears_only_after_the_hold_below_the_clear_level(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    run(engine, [reading(WL1, 5.6, m) for m in range(5)])
    # under the warning clear level (5.3) for 29 minutes: still warning
    assert levels(run(engine, [reading(WL1, 5.25, 5 + m) for m in range(30)])) == []
    alarms = run(engine, [reading(WL1, 5.25, 35 + m) for m in range(2)])
    assert levels(alarms) == [("warning", "watch")]
    assert "under 5.3 for 1800 s" in alarms[0].reason


def test_rising_jamsu_goes_watch_warning_critical_with_thresholds(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    alarms = run(engine, [reading(WL1, 4.0 + 0.05 * m, m * 2) for m in range(50)])
    changes = [a for a in alarms if a.rule == "level"]
    assert [(a.level, a.threshold) for a in changes] == [
        (WATCH, 5.0), (WARNING, 5.5), (CRITICAL, 6.2)
    ]  # fmt: skip
    assert all(not a.fault and a.reading_ids for a in changes)
    assert changes[-1].structure_level is CRITICAL


def test_spike_is_a_fault_and_raises_no_alarm(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    series = [4.0, 4.01, 4.0, 9.0, 4.02, 4.01, 4.03, 4.02]
    alarms = run(engine, [reading(WL1, v, m) for m, v in enumerate(series)])
    assert [(a.fault_kind, a.level) for a in alarms] == [
        (FaultKind.SPIKE, WARNING), (FaultKind.SPIKE, CLEAR)
    ]  # fmt: skip
    assert all(a.fault for a in alarms)
    assert alarms[0].reading_ids == [
        f"{WL1}:{int(reading(WL1, 9.0, 3).measured_at.timestamp() * 1000)}"
    ]
    assert engine.structure_level("han-jamsu") is CLEAR


def test_a_confirmed_jump_is_real(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    alarms = run(engine, [reading(WL1, v, m) for m, v in enumerate([4.0, 4.0, 6.4, 6.41])])
    assert not any(a.fault for a in alarms)
    assert levels(alarms) == [("clear", "critical")]


def test_flatline_is_a_fault_and_its_readings_move_nothing(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    alarms = run(engine, [reading(WL2, 4.2, m) for m in range(61)])
    assert [(a.fault_kind, a.level) for a in alarms] == [(FaultKind.FLATLINE, WARNING)]
    assert engine.sensor_fault(WL2) is FaultKind.FLATLINE
    # the stuck sensor keeps sending; a real gauge next to it rises: only wl1 alarms
    more = run(engine, [reading(WL2, 4.2, 61 + m) for m in range(30)])
    assert more == []


def test_out_of_range_and_wrong_unit_are_faults_not_alarms(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    alarms = run(
        engine, [reading(ACC, 3.0, 0), reading(ACC, 5000.0, 1), reading(ACC, 60.0, 2, unit="m/s2")]
    )
    assert [a.fault_kind for a in alarms] == [FaultKind.OUT_OF_RANGE]
    assert all(a.fault for a in alarms) and engine.structure_level("han-jamsu") is CLEAR
    # three plausible readings close the fault and are then applied: 55 gal is critical
    alarms = run(engine, [reading(ACC, v, 3 + m) for m, v in enumerate([10.0, 20.0, -55.0])])
    assert [(a.rule, a.level) for a in alarms] == [
        ("fault", CLEAR), ("level", WATCH), ("level", CRITICAL)
    ]  # fmt: skip


def test_wind_counts_gusts_in_ten_minutes_and_clears_after_thirty(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    calm, gust = 8.0, 18.0
    # one long gust (three readings over 15.4 m/s) is one gust; two gusts are not enough
    first = [gust, gust, gust, calm, gust, calm]
    assert run(engine, [reading(WIND, v, m) for m, v in enumerate(first)]) == []
    alarms = run(engine, [reading(WIND, gust, 6)])
    assert [(a.rule, a.level) for a in alarms] == [("count.gusts", WARNING)]
    assert len(alarms[0].reading_ids) == 3
    # calm for 29 minutes: still on; at 30 minutes since the last gust: clear
    assert run(engine, [reading(WIND, calm, 7 + m) for m in range(29)]) == []
    alarms = run(engine, [reading(WIND, calm, 36)])
    assert [(a.rule, a.level) for a in alarms] == [("count.gusts", CLEAR)]


def test_gusts_spread_beyond_the_window_raise_nothing(
    registry: SensorRegistry, reading: Any
) -> None:
    engine = RulesEngine(registry)
    series = [(m, 18.0 if m % 6 == 0 else 8.0) for m in range(0, 40)]
    assert run(engine, [reading(WIND, v, m) for m, v in series]) == []


def test_rate_of_rise(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    # tunnel air warming 10 degC a minute at 25-35 degC: rate-of-rise critical, no level alarm
    alarms = run(engine, [reading(TEMP, 25.0 + 10.0 * s / 60, s / 60) for s in range(0, 65, 5)])
    assert [(a.rule, a.level) for a in alarms] == [("rate.rate_of_rise", CRITICAL)]
    # a river rising 0.3 m/h raises no rapid-rise watch; 0.8 m/h does
    slow = run(RulesEngine(registry), [reading(WL1, 3.0 + 0.005 * m, m) for m in range(90)])
    fast = run(RulesEngine(registry), [reading(WL1, 3.0 + 0.8 * m / 60, m) for m in range(30)])
    assert slow == []
    assert [(a.rule, a.level) for a in fast] == [("rate.rapid_rise", WATCH)]


def test_redelivered_and_out_of_order_readings_change_nothing(
    registry: SensorRegistry, reading: Any
) -> None:
    readings = [
        SensorReading.model_validate(r) for r in generate_jamsu_flood() if r["unit"] != "cm"
    ]
    clean = RulesEngine(registry)
    expected = [a.id for a in run(clean, readings)]
    assert len(expected) >= 4
    engine = RulesEngine(registry)
    got: list[str] = []
    rng = random.Random(5)
    for i in range(0, len(readings), 20):  # batches redelivered, shuffled, with older repeats
        batch = readings[i : i + 20]
        got += [a.id for a in run(engine, batch)]
        again = batch + readings[max(0, i - 30) : i]
        rng.shuffle(again)
        got += [a.id for a in run(engine, again)]
    assert got == expected
    assert engine.stats.duplicates + engine.stats.late > len(readings)


def test_duplicate_gust_is_not_counted_twice(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    gusts = [reading(WIND, 18.0, 0), reading(WIND, 8.0, 1), reading(WIND, 18.0, 2)]
    assert run(engine, gusts + gusts + [gusts[0]]) == []


def test_gap_found_by_the_timer_and_on_arrival(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    run(engine, [reading(WL1, 4.0, 0), reading(ACC, 3.0, 0)])
    run(engine, [reading(ACC, 3.0 + m / 100, m) for m in range(1, 12)])
    assert engine.watermark is not None
    alarms = engine.check_gaps(now=engine.watermark)
    assert [(a.sensor_id, a.fault_kind, a.level) for a in alarms] == [(WL1, FaultKind.GAP, WARNING)]
    assert engine.check_gaps(now=engine.watermark) == []  # once per gap
    resumed = run(engine, [reading(WL1, 4.0, 12)])
    assert [(a.fault_kind, a.level) for a in resumed] == [(FaultKind.GAP, CLEAR)]
    late = run(engine, [reading(WL1, 4.0, 40)])  # 28 min silence found when the reading comes
    assert [(a.fault_kind, a.level) for a in late] == [
        (FaultKind.GAP, WARNING),
        (FaultKind.GAP, CLEAR),
    ]


def test_structure_level_is_the_highest_real_level(registry: SensorRegistry, reading: Any) -> None:
    engine = RulesEngine(registry)
    run(engine, [reading(WL1, 5.6, 0)])
    alarms = run(engine, [reading(ACC, 60.0, 1)])
    assert alarms[-1].structure_level is CRITICAL
    assert engine.structure_level("han-jamsu") is CRITICAL
    assert engine.structure_level("han-hangang") is CLEAR


def test_unknown_sensor_is_refused(registry: SensorRegistry, reading: Any) -> None:
    with pytest.raises(UnknownSensorError, match=r"nope\.wl1"):
        RulesEngine(registry).process(reading("nope.wl1", 1.0, 0))
