"""Call demand of the simulated area, per gu, derived from the real Seoul statistics.

Method (docs/simulation.md has the figures):

- **Seoul rates** (`simulation.statistics`): dispatches a day, EMS = mean of the 2018-2020
  ``ems_activities`` / 365, rescue = the 2018-2020 ``rescue_per_day``, fires = the 2021 Seoul
  total of ``fires_by_gu_2021_2022.csv`` / 365.
- **Per gu**: EMS and rescue split by resident population (``population_by_gu_2023_08.csv``),
  fires by the gu's own 2021 fire count: gu rate = Seoul rate x the gu's part x its share.
- **Share of a gu inside the area**: when the network covers the city (its node hull holds at
  least `CITY_WIDE_SHARE` of Seoul's area: the standard node-link network), every gu reached
  by the network (at least half its area within the approach radius of the hull) counts
  wholly: the uncovered rims are hills, river and airfield, not residents. Otherwise (the
  central OSM graph) a gu counts by the share of its area inside the hull.
- **On the network or not**: a gu whose road density inside the hull is below a quarter of the
  median gu's has (almost) no roads in the network: 강동구 on the standard node-link cut. Its
  calls are placed by administrative dong and reached by the approach-leg estimate
  (routing.approach_legs), so its figures are estimates (``on_network`` false in ``by_gu``).
- **Time of day**: the hour-of-day histogram of the 905 real 2021 fires, smoothed over three
  hours, is the profile of every type (the statistics give no hourly EMS profile).

The generator only needs a `DemandModel`: expected incidents by (gu, type) in each scenario
hour. `CityDemand` is the statistics' model; `Surge` multiplies any model in chosen gu, types
and hours; `Shifted` starts any model at another hour of the day (the scenarios of
`simulation.scenario` build on them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import shape

from goldentime.contracts import IncidentType
from routing import RoadNetwork
from simulation.errors import DemandDataError, SimulationError
from simulation.statistics import (
    HOURS,
    SeoulRates,
    hourly_profile,
    read_fires_by_gu,
    read_population,
    read_seoul_rates,
)

STAT_TYPES = (IncidentType.EMS, IncidentType.RESCUE, IncidentType.BUILDING_FIRE)
CITY_WIDE_SHARE = 0.8  # the node hull holds this much of Seoul's area: a city-wide network
REACHED_SHARE = 0.5  # city-wide: a gu this much within the approach radius counts wholly
SPARSE_ROADS = 0.25  # road density below this x the median gu's: not on the network

Rates = Mapping[tuple[str, IncidentType], float]


class DemandModel(Protocol):
    """What the call generator needs from a demand model."""

    @property
    def transport_share(self) -> float:
        """Share of EMS calls whose patient is carried to hospital."""
        ...

    def expected(self, hour: int) -> Rates:
        """Expected dispatched incidents by (gu, type) in scenario hour ``hour`` (0 = 00-01)."""
        ...


@dataclass(frozen=True, slots=True)
class GuArea:
    """One gu as the demand model sees it."""

    name: str
    population: int
    fires_per_year: int  # 2021
    share: float  # of the gu's residents and fires inside the simulated area (0, 1]
    on_network: bool  # False: places by dong, reached by approach legs (estimates)


@dataclass(frozen=True)
class CityDemand:
    """The statistics' demand: Seoul rates split per gu, one hourly profile, a scale."""

    seoul: SeoulRates
    gus: dict[str, GuArea]
    hourly_profile: tuple[float, ...]  # 24 weights summing to 1
    city_wide: bool
    scale: float = 1.0  # 1: the statistics' rates
    _per_day: dict[str, dict[IncidentType, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.hourly_profile) != HOURS or not np.isclose(sum(self.hourly_profile), 1.0):
            raise SimulationError("hourly_profile must be 24 weights summing to 1")
        if not self.scale > 0:
            raise SimulationError(f"demand scale must be positive, got {self.scale}")
        if not self.gus:
            raise SimulationError("the simulated area holds no gu")
        seoul, k = self.seoul, self.scale
        for gu in self.gus.values():
            people = gu.population / seoul.population * gu.share * k
            self._per_day[gu.name] = {
                IncidentType.EMS: seoul.ems_per_day * people,
                IncidentType.RESCUE: seoul.rescue_per_day * people,
                IncidentType.BUILDING_FIRE: seoul.fires_per_day
                * gu.fires_per_year
                / self._fires_total
                * gu.share
                * k,
            }

    @property
    def _fires_total(self) -> float:
        return self.seoul.fires_per_day * 365.0

    @property
    def transport_share(self) -> float:
        return self.seoul.transport_share

    @property
    def population_share(self) -> float:
        """Residents inside the area / Seoul's residents."""
        inside = sum(g.population * g.share for g in self.gus.values())
        return inside / self.seoul.population

    @property
    def fire_share(self) -> float:
        """2021 fires inside the area / Seoul's 2021 fires."""
        return sum(g.fires_per_year * g.share for g in self.gus.values()) / self._fires_total

    @property
    def calls_per_day(self) -> float:
        """119 calls a day in the area (Seoul calls x population share x scale)."""
        return self.seoul.calls_per_day * self.population_share * self.scale

    def per_day(self) -> dict[str, dict[IncidentType, float]]:
        """Dispatched incidents a day by gu and type."""
        return {g: dict(rates) for g, rates in self._per_day.items()}

    def incidents_per_day(self) -> dict[IncidentType, float]:
        """Dispatched incidents a day by type, all gu together."""
        return {t: sum(r[t] for r in self._per_day.values()) for t in STAT_TYPES}

    def expected(self, hour: int) -> Rates:
        weight = self.hourly_profile[hour % HOURS]
        return {
            (gu, t): rate * weight
            for gu, rates in self._per_day.items()
            for t, rate in rates.items()
        }

    def with_calls_per_day(self, calls_per_day: float) -> CityDemand:
        """The same model rescaled to ``calls_per_day`` 119 calls a day in the area."""
        if not calls_per_day > 0:
            raise SimulationError(f"calls per day must be positive, got {calls_per_day}")
        unscaled = self.seoul.calls_per_day * self.population_share
        return replace(self, scale=calls_per_day / unscaled)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary of the method's figures."""
        return {
            "city_wide": self.city_wide,
            "seoul_calls_per_day": round(self.seoul.calls_per_day, 1),
            "area_calls_per_day": round(self.calls_per_day, 1),
            "population_share_pct": round(100 * self.population_share, 3),
            "fire_share_pct": round(100 * self.fire_share, 3),
            "incidents_per_day": {
                t.value: round(r, 2) for t, r in self.incidents_per_day().items()
            },
            "transport_share_pct": round(100 * self.seoul.transport_share, 1),
            "gu": {
                g.name: {
                    "share_pct": round(100 * g.share, 2),
                    "on_network": g.on_network,
                    "incidents_per_day": round(sum(self._per_day[g.name].values()), 2),
                }
                for g in self.gus.values()
            },
        }


@dataclass(frozen=True)
class Surge:
    """``base`` with its rates multiplied by ``factor`` in some gu, types and hours.

    ``gus`` / ``types`` None: every one. ``hours``: [start, end) in scenario hours from
    midnight (hour h counts when start <= h < end).
    """

    base: DemandModel
    factor: float
    gus: frozenset[str] | None = None
    types: frozenset[IncidentType] | None = None
    hours: tuple[float, float] = (0.0, float("inf"))

    def __post_init__(self) -> None:
        if not self.factor >= 0:
            raise SimulationError(f"surge factor must be >= 0, got {self.factor}")
        if not self.hours[0] < self.hours[1]:
            raise SimulationError(
                f"surge hours must be [start, end) with start < end: {self.hours}"
            )

    @property
    def transport_share(self) -> float:
        return self.base.transport_share

    def expected(self, hour: int) -> Rates:
        rates = self.base.expected(hour)
        if not self.hours[0] <= hour < self.hours[1]:
            return rates
        return {
            (gu, t): rate * self.factor
            if (self.gus is None or gu in self.gus) and (self.types is None or t in self.types)
            else rate
            for (gu, t), rate in rates.items()
        }


@dataclass(frozen=True)
class Shifted:
    """``base`` read from local hour ``start_hour`` on: scenario hour h is ``base``'s h + start.

    A scenario that starts in the evening (a crowd crush at 22:15) keeps the evening's traffic.
    """

    base: DemandModel
    start_hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < HOURS:
            raise SimulationError(f"start hour must be in [0, {HOURS}), got {self.start_hour}")

    @property
    def transport_share(self) -> float:
        return self.base.transport_share

    def expected(self, hour: int) -> Rates:
        return self.base.expected(hour + self.start_hour)


def area_hull(network: RoadNetwork) -> shapely.Geometry:
    """Convex hull of the graph's nodes, in the network's metric projection."""
    index = network.index
    nodes = [network.graph.nodes[int(n)] for n in network.compiled.node_ids]
    xs, ys = index.to_metres.transform(
        np.array([d["x"] for d in nodes]), np.array([d["y"] for d in nodes])
    )
    return shapely.convex_hull(shapely.multipoints(np.column_stack([xs, ys])))


def read_polygons(path: Path, name_field: str) -> list[tuple[str, shapely.Geometry]]:
    """(name, lon/lat polygon) of every feature of a boundary GeoJSON file."""
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        return [(str(f["properties"][name_field]), shape(f["geometry"])) for f in features]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise DemandDataError(f"cannot read boundaries {path}: {err}") from err


def gu_polygons(path: Path, network: RoadNetwork) -> dict[str, shapely.Geometry]:
    """Gu name -> polygon in the network's metric projection."""
    project = network.index.project
    return {
        name: shapely.transform(poly, project) for name, poly in read_polygons(path, "SIG_KOR_NM")
    }


def road_length_by_gu(
    network: RoadNetwork, polygons: Mapping[str, shapely.Geometry]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Gu -> (segment indices, their lengths in metres) of the road segments inside it."""
    index = network.index
    mids = shapely.line_interpolate_point(index.metric, 0.5, normalized=True)
    xs, ys = shapely.get_x(mids), shapely.get_y(mids)
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for gu, poly in polygons.items():
        segs = np.flatnonzero(shapely.contains_xy(poly, xs, ys))
        found[gu] = (segs, index.seg_length[segs].astype(float))
    return found


def city_demand(seoul_data_dir: Path, network: RoadNetwork) -> CityDemand:
    """The demand of the network's area from the shipped statistics (see the module doc)."""
    population, pop_by_gu = read_population(
        seoul_data_dir / "stats" / "population_by_gu_2023_08.csv"
    )
    fires, fires_by_gu = read_fires_by_gu(
        seoul_data_dir / "incidents" / "fires_by_gu_2021_2022.csv"
    )
    seoul = read_seoul_rates(
        seoul_data_dir / "stats" / "stats_119_seoul.yaml",
        fires_per_year=fires,
        population=population,
    )
    polygons = gu_polygons(seoul_data_dir / "boundaries" / "seoul_gu.geojson", network)
    missing = set(polygons) - set(pop_by_gu) | set(polygons) - set(fires_by_gu)
    if missing:
        raise DemandDataError(f"gu {sorted(missing)} has no population or fire count")
    hull = area_hull(network)
    reach = shapely.buffer(hull, network.approach_rules.approach_m)
    area = {g: float(shapely.area(p)) for g, p in polygons.items()}
    in_hull = {g: float(shapely.area(shapely.intersection(p, hull))) for g, p in polygons.items()}
    city_wide = bool(sum(in_hull.values()) >= CITY_WIDE_SHARE * sum(area.values()))
    roads = road_length_by_gu(network, polygons)
    density = {g: roads[g][1].sum() / in_hull[g] for g in polygons if in_hull[g] > 0}
    dense = [d for d in density.values() if d > 0]
    median = float(np.median(dense)) if dense else 0.0
    gus: dict[str, GuArea] = {}
    for name in sorted(polygons):
        on_network = bool(density.get(name, 0.0) >= SPARSE_ROADS * median > 0)
        if city_wide:
            reached = float(shapely.area(shapely.intersection(polygons[name], reach)))
            share = 1.0 if reached >= REACHED_SHARE * area[name] else reached / area[name]
        else:
            share = in_hull[name] / area[name] if on_network else 0.0
        if share > 1e-4:
            gus[name] = GuArea(name, pop_by_gu[name], fires_by_gu[name], share, on_network)
    return CityDemand(
        seoul=seoul,
        gus=gus,
        hourly_profile=hourly_profile(seoul_data_dir / "incidents" / "late_fires_2021.csv"),
        city_wide=city_wide,
    )
