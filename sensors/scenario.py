"""The demo replay: the Han river rising at Jamsu bridge past 5.5 m and 6.2 m.

Deterministic (seeded). One reading a minute per sensor at ``han-jamsu``:

* ``wl1`` rises from 3.6 m to 6.8 m over three hours (about 1.1 m/h, a fast Han flood rise)
  with gauge noise (sigma 2 cm), then holds: watch at 5.0 m, rapid-rise watch, warning at
  5.5 m (pedestrians barred), critical at 6.2 m (vehicles barred: the bridge closes);
* ``wl2`` is a second gauge that gets stuck 40 minutes in: a flatline fault, never an alarm;
* ``wind1`` reports calm gusts (no wind alarm);
* one reading with a wrong unit (``cm``) that ingest dead-letters while the stream goes on.

``sensors/scenarios/jamsu_flood.jsonl`` is this generator's output (``goldentime sensors
scenario``); a unit test checks that the shipped file is current.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

STRUCTURE = "han-jamsu"
START = datetime.fromisoformat("2025-07-15T06:00:00+09:00")
SHIPPED = Path(__file__).parent / "scenarios" / "jamsu_flood.jsonl"
RISE_MINUTES = 180
STUCK_AFTER_MIN = 40


def river_level(minute: float) -> float:
    """The noiseless river level at Jamsu (m) ``minute`` minutes into the scenario."""
    return 3.6 + 3.2 * min(minute, RISE_MINUTES) / RISE_MINUTES


def _reading(sensor: str, kind: str, value: float, unit: str, at: datetime) -> dict[str, Any]:
    return {
        "id": f"{STRUCTURE}.{sensor}:{int(at.timestamp() * 1000)}",
        "structure_id": STRUCTURE,
        "sensor_id": f"{STRUCTURE}.{sensor}",
        "kind": kind,
        "value": round(value, 3),
        "unit": unit,
        "measured_at": at.isoformat(),
    }


def generate_jamsu_flood(
    *, seed: int = 8, start: datetime = START, minutes: int = 210
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    stuck_value: float | None = None
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        level = river_level(minute)
        out.append(_reading("wl1", "water_level", level + rng.gauss(0, 0.02), "m", at))
        if minute >= STUCK_AFTER_MIN:
            stuck_value = stuck_value if stuck_value is not None else round(level, 3)
            wl2 = stuck_value
        else:
            wl2 = level + rng.gauss(0, 0.02)
        out.append(_reading("wl2", "water_level", wl2, "m", at + timedelta(seconds=1)))
        gust = max(0.0, rng.gauss(7.0, 2.0))
        out.append(_reading("wind1", "wind", gust, "m/s", at + timedelta(seconds=2)))
        if minute == 100:
            bad = _reading("wl1", "water_level", level * 100, "cm", at + timedelta(seconds=30))
            out.append(bad)
    return out


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


SAJIK = "tn-sajik"
SAJIK_SHIPPED = Path(__file__).parent / "scenarios" / "sajik_tunnel_fire.jsonl"


def generate_sajik_tunnel_fire(
    *, seed: int = 8, start: datetime = START, minutes: int = 45
) -> list[dict[str, Any]]:
    """A vehicle fire in 사직터널 (사직로, links of the Seoul network and edges of the central
    graph): one reading a minute of CO,
    smoke and temperature; normal for 5 min, rising for 15 (critical from about minute 15:
    the tunnel closes and units driving through it are re-routed), burning out by minute 25,
    normal air from then on (the alarm clears after 10 min below the clear levels)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []

    def shape(minute: int) -> float:  # 0 = normal air, 1 = the fire at its worst
        if minute < 5:
            return 0.0
        if minute < 20:
            return (minute - 5) / 15
        return max(0.0, 1.0 - (minute - 20) / 5)

    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        f = shape(minute)
        sensors = (
            ("co1", "co", 20 + 260 * f, "ppm", 2.0),
            ("smoke1", "smoke", 0.002 + 0.018 * f, "1/m", 0.0002),
            ("temp1", "temperature", 24 + 50 * f, "degC", 0.3),
        )
        for offset, (sensor, kind, value, unit, sd) in enumerate(sensors):
            noisy = max(0.0, value + rng.gauss(0, sd))
            reading = _reading(sensor, kind, noisy, unit, at + timedelta(seconds=offset))
            reading["id"] = reading["id"].replace(STRUCTURE, SAJIK)
            reading["structure_id"] = SAJIK
            reading["sensor_id"] = reading["sensor_id"].replace(STRUCTURE, SAJIK)
            out.append(reading)
    return out
