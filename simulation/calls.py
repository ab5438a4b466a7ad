"""The seeded call generator: when, where and what each dispatched 119 call is.

Every random draw happens here, once, so every policy replays exactly the same calls with the
same service times (`SimCall` carries them). Counts per hour and type are Poisson with the
rate of :class:`~simulation.demand.AreaDemand` times the hour's share of the day.

Places: a fire is one of the real 2021 fires inside the area (``late_fires_2021.csv``,
picked uniformly); EMS and rescue calls pick a gu by its population inside the area, then a
road segment of that gu part by length (people live and are hurt along streets), then a
uniform point on it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from goldentime.contracts import IncidentType
from routing import RoadNetwork
from simulation.demand import HOURS, AreaDemand, area_hull, gu_polygons
from simulation.errors import DemandDataError, SimulationError
from simulation.service import ServiceTimes


@dataclass(frozen=True, slots=True)
class SimCall:
    """One dispatched call and everything random about it."""

    call_id: str
    at_s: float  # scenario seconds from the start
    lat: float
    lon: float
    type: IncidentType
    gu: str
    processing_s: float  # call taking and processing until the dispatch decision
    scene_s: float  # time the units work on scene
    transport: bool  # an ambulance carries the patient to hospital


@dataclass(frozen=True)
class PlaceSampler:
    """Where calls happen: real fire points and road segments of each gu part."""

    fires: tuple[tuple[float, float], ...]
    segments_by_gu: dict[str, np.ndarray]  # segment indices
    lengths_by_gu: dict[str, np.ndarray]
    network: RoadNetwork

    def fire(self, rng: np.random.Generator) -> tuple[float, float]:
        return self.fires[int(rng.integers(len(self.fires)))]

    def on_road(self, rng: np.random.Generator, gu: str) -> tuple[float, float]:
        segs, lengths = self.segments_by_gu[gu], self.lengths_by_gu[gu]
        seg = int(segs[rng.choice(len(segs), p=lengths / lengths.sum())])
        point = shapely.line_interpolate_point(
            self.network.index.lonlat[seg], float(rng.uniform(0.05, 0.95)), normalized=True
        )
        return round(float(point.y), 7), round(float(point.x), 7)


def real_fires_inside(path: Path, network: RoadNetwork) -> tuple[tuple[float, float], ...]:
    """(lat, lon) of the real 2021 fires inside the graph's hull."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as err:
        raise DemandDataError(f"cannot read fires {path}: {err}") from err
    points: list[tuple[float, float]] = []
    for line, row in enumerate(rows, start=2):
        try:
            points.append((float(row["위도"]), float(row["경도"])))
        except (KeyError, ValueError) as err:
            raise DemandDataError(f"{path}, row {line}: bad 위도/경도") from err
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    xs, ys = network.index.to_metres.transform(lon, lat)
    inside = shapely.contains_xy(area_hull(network), xs, ys)
    found = tuple(p for p, ok in zip(points, inside, strict=True) if ok)
    if not found:
        raise DemandDataError(f"{path}: no fire lies inside the road graph's area")
    return found


def place_sampler(seoul_data_dir: Path, network: RoadNetwork, gus: set[str]) -> PlaceSampler:
    """Fire points and per-gu road segments of the area."""
    index = network.index
    mids = shapely.line_interpolate_point(index.metric, 0.5, normalized=True)
    xs, ys = shapely.get_x(mids), shapely.get_y(mids)
    segments: dict[str, np.ndarray] = {}
    lengths: dict[str, np.ndarray] = {}
    for gu, poly in gu_polygons(
        seoul_data_dir / "boundaries" / "seoul_gu.geojson", network
    ).items():
        if gu not in gus:
            continue
        found = np.flatnonzero(shapely.contains_xy(poly, xs, ys))
        if found.size:
            segments[gu], lengths[gu] = found, index.seg_length[found].astype(float)
    fires = real_fires_inside(seoul_data_dir / "incidents" / "late_fires_2021.csv", network)
    return PlaceSampler(fires, segments, lengths, network)


def generate_calls(
    demand: AreaDemand,
    places: PlaceSampler,
    *,
    hours: float,
    seed: int,
    calls_per_day: float | None = None,
    service: ServiceTimes | None = None,
) -> list[SimCall]:
    """The dispatched calls of ``hours`` from midnight, in time order (deterministic)."""
    if not 0 < hours <= 24 * 7:
        raise SimulationError(f"hours must be in (0, 168], got {hours}")
    if calls_per_day is not None and not calls_per_day > 0:
        raise SimulationError(f"calls per day must be positive, got {calls_per_day}")
    service = service or ServiceTimes()
    rng = np.random.default_rng(seed)
    rates = demand.incidents_per_day(calls_per_day=calls_per_day)
    gus = [g for g in demand.gu_population_in_area if g in places.segments_by_gu]
    weights = np.array([demand.gu_population_in_area[g] for g in gus])
    weights = weights / weights.sum()
    calls: list[SimCall] = []
    for hour in range(math.ceil(hours)):
        span = min(1.0, hours - hour)
        share = demand.hourly_profile[hour % HOURS] * span
        for incident_type, per_day in rates.items():
            for _ in range(int(rng.poisson(per_day * share))):
                at = (hour + float(rng.uniform(0, span))) * 3600.0
                if incident_type is IncidentType.BUILDING_FIRE:
                    (lat, lon), gu = places.fire(rng), ""
                else:
                    gu = gus[int(rng.choice(len(gus), p=weights))]
                    lat, lon = places.on_road(rng, gu)
                transport = (
                    incident_type is IncidentType.EMS
                    and float(rng.uniform()) < demand.seoul.transport_share
                )
                calls.append(
                    SimCall(
                        call_id="",
                        at_s=at,
                        lat=lat,
                        lon=lon,
                        type=incident_type,
                        gu=gu,
                        processing_s=service.sample_processing(rng),
                        scene_s=service.sample_scene(rng, incident_type),
                        transport=transport,
                    )
                )
    calls.sort(key=lambda c: c.at_s)
    return [
        SimCall(
            f"sim-{seed}-{n:05d}",
            c.at_s,
            c.lat,
            c.lon,
            c.type,
            c.gu,
            c.processing_s,
            c.scene_s,
            c.transport,
        )
        for n, c in enumerate(calls)
    ]
