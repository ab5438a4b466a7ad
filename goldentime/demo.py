"""The demo scenario: real 2021 Seoul fires inside the central graph, replayed as 119 calls.

Each fire from ``incidents/late_fires_2021.csv`` that lies inside the central road graph's
area becomes a call; some fires get a second caller a little later and a few dozen metres
away (a duplicate that correlation should attach). Calls go through the public HTTP intake
API, like any telephony adapter, at ``speed`` scenario seconds per real second.
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
from lxml import etree

from goldentime.clock import Clock, SystemClock
from goldentime.errors import DataError

MEAN_GAP_S = 90.0  # scenario seconds between fires: a busy hour for central Seoul
DUPLICATE_SHARE = 0.35  # share of fires reported by a second caller


@dataclass(frozen=True, slots=True)
class ScenarioCall:
    offset_s: float
    body: dict[str, Any]


def graph_bbox(graphml: Path) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of the nodes of an OSMnx GraphML file."""
    if not graphml.is_file():
        raise DataError(f"road graph not found: {graphml}")
    keys: dict[str, str] = {}
    lats: list[float] = []
    lons: list[float] = []
    ns = "{http://graphml.graphdrawing.org/xmlns}"
    try:
        for _event, elem in etree.iterparse(str(graphml), events=("end",)):
            if elem.tag == f"{ns}key" and elem.get("for") == "node":
                keys[elem.get("id", "")] = elem.get("attr.name", "")
            elif elem.tag == f"{ns}data" and elem.getparent().tag == f"{ns}node":
                name = keys.get(elem.get("key", ""))
                if name == "y":
                    lats.append(float(elem.text or "nan"))
                elif name == "x":
                    lons.append(float(elem.text or "nan"))
            elif elem.tag == f"{ns}edge":
                elem.clear()
    except etree.XMLSyntaxError as err:
        raise DataError(f"{graphml}: not a GraphML file: {err}") from err
    if not lats or not lons:
        raise DataError(f"{graphml}: no node coordinates (x/y) found")
    return min(lats), min(lons), max(lats), max(lons)


def load_fires(csv_path: Path, bbox: tuple[float, float, float, float]) -> list[dict[str, str]]:
    """The real fires inside ``bbox``, oldest first."""
    min_lat, min_lon, max_lat, max_lon = bbox
    try:
        with csv_path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {csv_path}: {err}") from err
    fires = []
    for number, row in enumerate(rows, start=2):
        try:
            lat, lon = float(row["위도"]), float(row["경도"])
        except (KeyError, ValueError) as err:
            raise DataError(f"{csv_path}, row {number}: bad 위도/경도: {err}") from err
        if min_lat <= lat <= max_lat and min_lon <= lon <= max_lon:
            fires.append(row)
    fires.sort(key=lambda r: r.get("화재발생일시", ""))
    return fires


def _nudge(lat: float, lon: float, rng: random.Random, metres: float) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(bearing) / 111_320
    dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def build_scenario(
    fires: list[dict[str, str]], *, calls: int, run_id: str, seed: int = 119
) -> list[ScenarioCall]:
    """Calls (with planted duplicates) ordered by their offset in scenario seconds."""
    rng = random.Random(seed)
    out: list[ScenarioCall] = []
    offset = 0.0
    for index, fire in enumerate(fires):
        if len(out) >= calls:
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
                    "id": f"demo-{run_id}-{index:03d}",
                    "lat": lat,
                    "lon": lon,
                    "type": "building_fire",
                    "caller": f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    "description": note,
                    "source": "demo",
                },
            )
        )
        if rng.random() < DUPLICATE_SHARE and len(out) < calls:
            dlat, dlon = _nudge(lat, lon, rng, rng.uniform(20, 120))
            out.append(
                ScenarioCall(
                    offset + rng.uniform(20, 120),
                    {
                        "id": f"demo-{run_id}-{index:03d}-b",
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


def scenario_for(seoul_data_dir: Path, *, calls: int, run_id: str) -> list[ScenarioCall]:
    bbox = graph_bbox(seoul_data_dir / "roads" / "seoul_central_drive.graphml")
    fires = load_fires(seoul_data_dir / "incidents" / "late_fires_2021.csv", bbox)
    if not fires:
        raise DataError("no 2021 fire lies inside the central road graph")
    return build_scenario(fires, calls=calls, run_id=run_id)


def run_id_now(clock: Clock | None = None) -> str:
    now: datetime = (clock or SystemClock()).now()
    return now.strftime("%Y%m%d%H%M%S")
