"""The seeded call generator: when, where and what each dispatched 119 call is.

Every random draw happens here, once, so every policy replays exactly the same calls with the
same service times (`SimCall` carries them). The count of each (gu, type) in each hour is
Poisson with the rate the `DemandModel` expects for that hour.

Places (`PlaceSampler`), per gu:

- **EMS and rescue** on a gu the network covers: a road segment of the gu by length (people
  live and are hurt along streets), then a uniform point on it;
- on a gu the network does not cover (강동구 on the standard node-link cut): an administrative
  dong of the gu chosen uniformly (dongs are drawn to hold similar populations), then a uniform
  point in it within the network's approach radius; such calls are reached by the approach-leg
  estimate;
- **fires**: one of the gu's real 2021 fires (``late_fires_2021.csv``) inside the area, picked
  uniformly; a gu without one places its fires like its other calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from goldentime.contracts import IncidentType
from routing import RoadNetwork
from simulation.demand import (
    CityDemand,
    DemandModel,
    area_hull,
    gu_polygons,
    read_polygons,
    road_length_by_gu,
)
from simulation.errors import DemandDataError, SimulationError
from simulation.service import ServiceTimes
from simulation.statistics import read_fire_places

MAX_HOURS = 24 * 7


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
    hospital: tuple[float, float] | None = None  # where to (None: the nearest emergency room)


@dataclass(frozen=True)
class GuPlaces:
    """Where the calls of one gu happen."""

    segments: np.ndarray  # road segment indices (empty off the network)
    cum_length: np.ndarray  # cumulative share of road length, for the segment draw
    areas: tuple[shapely.Geometry, ...]  # off the network: dong parts, metric projection
    fires: tuple[tuple[float, float], ...]  # real 2021 fire points (lat, lon)


@dataclass(frozen=True)
class PlaceSampler:
    """Places of calls by gu (see the module doc)."""

    by_gu: dict[str, GuPlaces]
    network: RoadNetwork

    def _places(self, gu: str) -> GuPlaces:
        found = self.by_gu.get(gu)
        if found is None:
            raise SimulationError(
                f"gu {gu!r} is not in the simulated area; known: {', '.join(sorted(self.by_gu))}"
            )
        return found

    def fire(self, rng: np.random.Generator, gu: str) -> tuple[float, float]:
        places = self._places(gu)
        if not places.fires:
            return self.point(rng, gu)
        return places.fires[int(rng.integers(len(places.fires)))]

    def point(self, rng: np.random.Generator, gu: str) -> tuple[float, float]:
        """A place of an EMS or rescue call in ``gu``."""
        places = self._places(gu)
        if places.segments.size:
            k = int(np.searchsorted(places.cum_length, rng.uniform(), side="right"))
            seg = int(places.segments[min(k, places.segments.size - 1)])
            point = shapely.line_interpolate_point(
                self.network.index.lonlat[seg], float(rng.uniform(0.05, 0.95)), normalized=True
            )
            return round(float(point.y), 7), round(float(point.x), 7)
        area = places.areas[int(rng.integers(len(places.areas)))]
        x0, y0, x1, y1 = shapely.bounds(area)
        for _ in range(1000):
            x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
            if shapely.contains_xy(area, x, y):
                lon, lat = self.network.index.to_lonlat.transform(x, y)
                return round(float(lat), 7), round(float(lon), 7)
        raise SimulationError(f"cannot place a call in {gu}: its area is degenerate")


def _dong_parts(
    seoul_data_dir: Path, network: RoadNetwork, gu: shapely.Geometry, reach: shapely.Geometry
) -> tuple[shapely.Geometry, ...]:
    """The administrative dongs of ``gu`` (metric), each cut to the gu and the reach."""
    project = network.index.project
    parts = []
    for _name, poly in read_polygons(
        seoul_data_dir / "boundaries" / "seoul_admin_dong.geojson", "name"
    ):
        dong = shapely.transform(poly, project)
        if not shapely.contains(gu, shapely.point_on_surface(dong)):
            continue
        part = shapely.intersection(shapely.intersection(dong, gu), reach)
        if shapely.area(part) > 1e4:  # at least a hectare
            parts.append(part)
    if not parts:
        part = shapely.intersection(gu, reach)
        if shapely.area(part) <= 0:
            raise DemandDataError("a gu off the network has no area within the approach radius")
        parts.append(part)
    return tuple(parts)


def place_sampler(seoul_data_dir: Path, network: RoadNetwork, demand: CityDemand) -> PlaceSampler:
    """Places of every gu of ``demand``'s area."""
    polygons = gu_polygons(seoul_data_dir / "boundaries" / "seoul_gu.geojson", network)
    polygons = {g: p for g, p in polygons.items() if g in demand.gus}
    hull = area_hull(network)
    area = shapely.buffer(hull, network.approach_rules.approach_m) if demand.city_wide else hull
    roads = road_length_by_gu(network, polygons)
    fire_points = read_fire_places(seoul_data_dir / "incidents" / "late_fires_2021.csv")
    xs, ys = network.index.to_metres.transform(
        np.array([p[2] for p in fire_points]), np.array([p[1] for p in fire_points])
    )
    inside = shapely.contains_xy(area, xs, ys)
    by_gu: dict[str, GuPlaces] = {}
    for gu, poly in polygons.items():
        fires = tuple(
            (lat, lon)
            for (name, lat, lon), ok in zip(fire_points, inside, strict=True)
            if ok and name == gu
        )
        segs, lengths = roads[gu]
        if demand.gus[gu].on_network and segs.size:
            cum = np.cumsum(lengths) / lengths.sum()
            by_gu[gu] = GuPlaces(segs, cum, (), fires)
        else:
            empty = np.zeros(0, dtype=np.int64)
            parts = _dong_parts(seoul_data_dir, network, poly, area)
            by_gu[gu] = GuPlaces(empty, np.zeros(0), parts, fires)
    return PlaceSampler(by_gu, network)


def generate_calls(
    demand: DemandModel,
    places: PlaceSampler,
    *,
    hours: float,
    seed: int,
    service: ServiceTimes | None = None,
) -> list[SimCall]:
    """The dispatched calls of ``hours`` from midnight, in time order (deterministic)."""
    if not 0 < hours <= MAX_HOURS:
        raise SimulationError(f"hours must be in (0, {MAX_HOURS}], got {hours}")
    service = service or ServiceTimes()
    rng = np.random.default_rng(seed)
    transport_share = demand.transport_share
    calls: list[SimCall] = []
    for hour in range(math.ceil(hours)):
        span = min(1.0, hours - hour)
        for (gu, incident_type), rate in demand.expected(hour).items():
            if rate < 0:
                raise SimulationError(f"negative rate for {gu} {incident_type.value} at {hour} h")
            for _ in range(int(rng.poisson(rate * span))):
                at = (hour + float(rng.uniform(0, span))) * 3600.0
                if incident_type is IncidentType.BUILDING_FIRE:
                    lat, lon = places.fire(rng, gu)
                else:
                    lat, lon = places.point(rng, gu)
                transport = (
                    incident_type is IncidentType.EMS and float(rng.uniform()) < transport_share
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
