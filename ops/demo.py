"""The demo scenario: every late fire of 2021 across Seoul, replayed as 119 calls.

Each of the 905 fires of ``incidents/late_fires_2021.csv`` (fires the 119 reached late in 2021,
in all 25 gu; 강동구's are answered through the approach legs of the standard node-link network,
whose cut lacks that gu) becomes a call, in the order they happened; some fires get a second
caller a little later and a few dozen metres away (a duplicate that correlation should attach).
Calls go through the public HTTP intake API, like any telephony adapter, at ``speed`` scenario
seconds per real second. `goldentime up` starts it next to the fire video, the Jamsu bridge
flood and the 사직터널 fire (ops/up.py).
"""

from __future__ import annotations

import csv
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from goldentime.clock import Clock, SystemClock
from goldentime.errors import DataError
from goldentime.geo import destination

# Scenario seconds between fires: Seoul dispatches ~1,900 incidents a day, one every ~45 s.
MEAN_GAP_S = 45.0
DUPLICATE_SHARE = 0.35  # share of fires reported by a second caller
# Where a fire may lie (lat min, lon min, lat max, lon max): Seoul and its edge; a row outside
# is a broken coordinate, refused with its row number.
SEOUL_EXTENT = (37.40, 126.75, 37.72, 127.20)


@dataclass(frozen=True, slots=True)
class ScenarioCall:
    offset_s: float
    body: dict[str, Any]


def load_fires(
    csv_path: Path, bbox: tuple[float, float, float, float] | None = None
) -> list[dict[str, str]]:
    """The real fires (all of them, or those inside ``bbox``), oldest first.

    ``bbox`` is (min_lat, min_lon, max_lat, max_lon). A row without a coordinate, or one
    outside :data:`SEOUL_EXTENT`, is a DataError naming the row.
    """
    try:
        with csv_path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {csv_path}: {err}") from err
    fires = []
    for number, row in enumerate(rows, start=2):
        try:
            lat, lon = float(row["위도"]), float(row["경도"])
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"{csv_path}, row {number}: bad 위도/경도: {err}") from err
        south, west, north, east = SEOUL_EXTENT
        if not (south <= lat <= north and west <= lon <= east):
            raise DataError(f"{csv_path}, row {number}: 위도/경도 {lat}, {lon} is not in Seoul")
        if bbox is None or (bbox[0] <= lat <= bbox[2] and bbox[1] <= lon <= bbox[3]):
            fires.append(row)
    fires.sort(key=lambda r: r.get("화재발생일시", ""))
    return fires


def _nudge(lat: float, lon: float, rng: random.Random, metres: float) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * math.pi)
    to_lat, to_lon = destination(lat, lon, bearing_rad=bearing, distance_m=metres)
    return round(to_lat, 6), round(to_lon, 6)


def build_scenario(
    fires: list[dict[str, str]], *, calls: int | None = None, run_id: str, seed: int = 119
) -> list[ScenarioCall]:
    """Calls (with planted duplicates) ordered by their offset in scenario seconds.

    ``calls`` caps the number of calls; None plays every fire with its second callers.
    """
    rng = random.Random(seed)
    limit = calls if calls is not None else 2 * len(fires)
    out: list[ScenarioCall] = []
    offset = 0.0
    for index, fire in enumerate(fires):
        if len(out) >= limit:
            break
        lat, lon = float(fire["위도"]), float(fire["경도"])
        where = f"{fire.get('시군구명', '')} {fire.get('읍면동명', '')}".strip()
        note = (
            f"{where} 건물 화재 신고 (2021 실제 화재 {fire.get('화재발생일시', '')}, "
            f"당시 출동 {fire.get('출동소요시간', '?')}초)"
        )
        out.append(
            ScenarioCall(
                offset,
                {
                    "id": f"demo-{run_id}-{index:04d}",
                    "lat": lat,
                    "lon": lon,
                    "type": "building_fire",
                    "caller": f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    "description": note,
                    "source": "demo",
                },
            )
        )
        if rng.random() < DUPLICATE_SHARE and len(out) < limit:
            dlat, dlon = _nudge(lat, lon, rng, rng.uniform(20, 120))
            out.append(
                ScenarioCall(
                    offset + rng.uniform(20, 120),
                    {
                        "id": f"demo-{run_id}-{index:04d}-b",
                        "lat": dlat,
                        "lon": dlon,
                        "type": "building_fire",
                        "description": f"{where} 연기가 보인다는 추가 신고 (second caller)",
                        "source": "demo",
                    },
                )
            )
        offset += rng.expovariate(1 / MEAN_GAP_S)
    out.sort(key=lambda c: c.offset_s)
    return out


def replay(
    scenario: list[ScenarioCall],
    *,
    url: str,
    speed: float,
    clock: Clock | None = None,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = print,
) -> int:
    """Post each call when its time comes; return how many the console accepted."""
    clock = clock or SystemClock()
    start = clock.monotonic()
    accepted = 0
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for item in scenario:
            wait = item.offset_s / speed - (clock.monotonic() - start)
            if wait > 0:
                sleep(wait)
            body = {**item.body, "received_at": clock.now().isoformat()}
            for attempt in range(5):
                try:
                    response = client.post("/api/calls", json=body)
                except httpx.HTTPError as err:
                    echo(f"demo: console unreachable ({err}); retrying")
                    sleep(1.0 + attempt)
                    continue
                if response.status_code == 202:
                    accepted += 1
                    echo(f"demo: call {body['id']} at {body['lat']:.5f},{body['lon']:.5f}")
                    break
                if response.status_code == 503:
                    sleep(1.0 + attempt)
                    continue
                echo(f"demo: call {body['id']} refused: {response.status_code} {response.text}")
                break
    return accepted


def scenario_for(seoul_data_dir: Path, *, calls: int | None, run_id: str) -> list[ScenarioCall]:
    """The demo's calls: every 2021 late fire of the city (``calls`` None) or the first ones."""
    fires = load_fires(seoul_data_dir / "incidents" / "late_fires_2021.csv")
    if not fires:
        raise DataError("no 2021 fire in incidents/late_fires_2021.csv")
    return build_scenario(fires, calls=calls, run_id=run_id)


def crowd_scenario_calls(
    name_or_path: str | Path, *, run_id: str, seed: int = 5
) -> list[ScenarioCall]:
    """A surge scenario's crowd (``goldentime simulate --scenario``, e.g. ``crowd-crush``) and
    the ordinary calls near it, as demo calls timed from the crowd's first call.

    The calls are the simulation's (`simulation.crowd`): callers with their numbers (a fifth
    calling again) and location circles, so the real intake folds them into one MCI incident.
    A scenario without a ``[crowd]`` is a DataError naming it.
    """
    from simulation.crowd import crowd_calls, nearby_calls
    from simulation.scenario import load_scenario

    scenario = load_scenario(name_or_path)
    if scenario.crowd is None:
        raise DataError(
            f"scenario {scenario.name} has no [crowd] for the demo to play "
            "(goldentime simulate --scenario runs it)"
        )
    calls = sorted(
        crowd_calls(scenario.crowd, seed=seed) + nearby_calls(scenario.crowd, scenario.nearby),
        key=lambda c: (c.at_s, c.call_id),
    )
    start = calls[0].at_s
    return [
        ScenarioCall(c.at_s - start, c.call_body(run_id=f"demo-{run_id}", source="demo"))
        for c in calls
    ]


def run_id_now(clock: Clock | None = None) -> str:
    now: datetime = (clock or SystemClock()).now()
    return now.strftime("%Y%m%d%H%M%S")
