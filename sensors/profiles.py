"""Sensor fits per structure type, with thresholds and where each figure comes from.

Official figures (``/work/shared/NOTES.md`` "Bridges and rivers"; Han River Flood Control
Office practice):

* Jamsu bridge: pedestrians barred at 5.5 m (-> warning), vehicles barred at 6.2 m
  (-> critical, the structure is closed). Our watch level 5.0 m is an early-warning margin.
* Hangang bridge gauge: flood watch (홍수주의보) 8.5 m (-> watch), flood warning (홍수경보)
  10.5 m (-> warning).
* Long-span practice: pylon/deck acceleration 20 gal keep the data window (-> watch); deck
  acceleration 50 gal emergency inspection (-> critical: closed until inspected).
* Wind (Severn bridge practice): gusts over 30 kn (15.4 m/s) counted in a 10-minute window;
  cleared only after 30 minutes without a gust over 30 kn.

Engineering defaults (not official for these structures; reviewable in one place here):

* Clear levels 0.2 m under each water threshold and a 30-minute hold before stepping down.
* Deflection limits span/1000 (warning) and span/800 (critical, AASHTO live-load limit) for
  displacement sensors on grade-C bridges.
* Tunnel air (PIARC road-tunnel design values): CO 70 / 100 / 200 ppm (200 ppm: close the
  tunnel); smoke extinction 0.005 / 0.009 / 0.012 1/m (0.012: close); fixed-temperature
  heat detection 57 °C and rate-of-rise 8.3 °C/min (NFPA 72 heat detectors).

Which structure carries which sensors is a deployment fact no public file holds: the fits
below (one deck accelerometer per bridge, a displacement gauge on grade-C bridges, two level
gauges + anemometer on the Han bridges, CO/smoke/temperature in tunnels) are the demo fit.
"""

from __future__ import annotations

from goldentime.contracts.sensors import AlarmLevel, SensorKind
from sensors.model import CountRule, FaultLimits, LevelThreshold, RateRule, SensorSpec

WATCH, WARNING, CRITICAL = AlarmLevel.WATCH, AlarmLevel.WARNING, AlarmLevel.CRITICAL
MINUTE = 60.0
HOUR = 3600.0
GUST_MS = 15.4  # 30 knots

WATER_FAULTS = FaultLimits(
    physical_min=-2.0,
    physical_max=25.0,
    flatline_s=HOUR,
    gap_s=10 * MINUTE,
    max_step=0.5,
    max_slew_per_s=1.0 / HOUR,
)
ACCEL_FAULTS = FaultLimits(
    physical_min=-2000.0, physical_max=2000.0, flatline_s=10 * MINUTE, gap_s=5 * MINUTE
)
WIND_FAULTS = FaultLimits(
    physical_min=0.0, physical_max=90.0, flatline_s=6 * HOUR, gap_s=5 * MINUTE
)


def water_levels(
    *, watch: float, warning: float, critical: float | None, hold_s: float = 30 * MINUTE
) -> tuple[LevelThreshold, ...]:
    levels = [
        LevelThreshold(WATCH, watch, watch - 0.2, clear_after_s=hold_s),
        LevelThreshold(WARNING, warning, warning - 0.2, clear_after_s=hold_s),
    ]
    if critical is not None:
        levels.append(LevelThreshold(CRITICAL, critical, critical - 0.2, clear_after_s=hold_s))
    return tuple(levels)


RAPID_RISE = RateRule(
    name="rapid_rise", level=WATCH, rise=0.5, per_s=HOUR, clear_after_s=30 * MINUTE,
    min_span_s=10 * MINUTE,
)  # fmt: skip


def water_gauge(structure_id: str, local: str, levels: tuple[LevelThreshold, ...]) -> SensorSpec:
    return SensorSpec(
        sensor_id=f"{structure_id}.{local}",
        structure_id=structure_id,
        kind=SensorKind.WATER_LEVEL,
        faults=WATER_FAULTS,
        levels=levels,
        rate_rules=(RAPID_RISE,),
        note="river level at the structure (m above the gauge datum)",
    )


def deck_accelerometer(structure_id: str) -> SensorSpec:
    return SensorSpec(
        sensor_id=f"{structure_id}.acc1",
        structure_id=structure_id,
        kind=SensorKind.ACCELERATION,
        faults=ACCEL_FAULTS,
        levels=(
            LevelThreshold(WATCH, 20.0, 15.0, clear_after_s=5 * MINUTE),
            LevelThreshold(CRITICAL, 50.0, 40.0, clear_after_s=10 * MINUTE),
        ),
        absolute=True,
        note="deck acceleration, peak of the reporting interval (gal = cm/s²)",
    )


def anemometer(structure_id: str) -> SensorSpec:
    return SensorSpec(
        sensor_id=f"{structure_id}.wind1",
        structure_id=structure_id,
        kind=SensorKind.WIND,
        faults=WIND_FAULTS,
        count_rules=(
            CountRule(
                name="gusts",
                level=WARNING,
                over=GUST_MS,
                count=3,
                window_s=10 * MINUTE,
                clear_over=GUST_MS,
                clear_after_s=30 * MINUTE,
            ),
        ),
        note="gust speed at deck level",
    )


def displacement_gauge(structure_id: str, span_m: float) -> SensorSpec:
    span_mm = span_m * 1000.0
    warning, critical = span_mm / 1000.0, span_mm / 800.0
    return SensorSpec(
        sensor_id=f"{structure_id}.disp1",
        structure_id=structure_id,
        kind=SensorKind.DISPLACEMENT,
        faults=FaultLimits(
            physical_min=-5 * critical,
            physical_max=5 * critical,
            flatline_s=6 * HOUR,
            gap_s=10 * MINUTE,
        ),
        levels=(
            LevelThreshold(WARNING, warning, 0.8 * warning, clear_after_s=30 * MINUTE),
            LevelThreshold(CRITICAL, critical, 0.9 * critical, clear_after_s=30 * MINUTE),
        ),
        absolute=True,
        note=f"mid-span deflection; limits span/1000 and span/800 of {span_m:g} m",
    )


def tunnel_sensors(structure_id: str) -> tuple[SensorSpec, ...]:
    air_hold = 10 * MINUTE
    return (
        SensorSpec(
            sensor_id=f"{structure_id}.co1",
            structure_id=structure_id,
            kind=SensorKind.CO,
            faults=FaultLimits(
                physical_min=0.0, physical_max=1000.0, flatline_s=6 * HOUR, gap_s=5 * MINUTE
            ),
            levels=(
                LevelThreshold(WATCH, 70.0, 50.0, clear_after_s=air_hold),
                LevelThreshold(WARNING, 100.0, 80.0, clear_after_s=air_hold),
                LevelThreshold(CRITICAL, 200.0, 150.0, clear_after_s=air_hold),
            ),
        ),
        SensorSpec(
            sensor_id=f"{structure_id}.smoke1",
            structure_id=structure_id,
            kind=SensorKind.SMOKE,
            faults=FaultLimits(
                physical_min=0.0, physical_max=1.0, flatline_s=6 * HOUR, gap_s=5 * MINUTE
            ),
            levels=(
                LevelThreshold(WATCH, 0.005, 0.004, clear_after_s=air_hold),
                LevelThreshold(WARNING, 0.009, 0.007, clear_after_s=air_hold),
                LevelThreshold(CRITICAL, 0.012, 0.010, clear_after_s=air_hold),
            ),
            note="visibility as extinction coefficient K",
        ),
        SensorSpec(
            sensor_id=f"{structure_id}.temp1",
            structure_id=structure_id,
            kind=SensorKind.TEMPERATURE,
            faults=FaultLimits(
                physical_min=-40.0, physical_max=1200.0, flatline_s=6 * HOUR, gap_s=5 * MINUTE
            ),
            levels=(
                LevelThreshold(WARNING, 45.0, 40.0, clear_after_s=air_hold),
                LevelThreshold(CRITICAL, 57.0, 50.0, clear_after_s=air_hold),
            ),
            rate_rules=(
                RateRule(
                    name="rate_of_rise",
                    level=CRITICAL,
                    rise=8.3,
                    per_s=MINUTE,
                    clear_after_s=air_hold,
                    min_span_s=30.0,
                ),
            ),
        ),
    )
