"""Everything a simulation reads once: road network, fleet, stations, hospitals, rules, demand.

The road network is dispatch's own (`dispatch.context.road_network`: the configured network,
Seoul-wide by default, with firemap's vehicle restrictions), the fleet is dispatch's own
(`dispatch.context.fleet_for`: every station the network's incidents can be answered from;
stations off the roads reach them by an estimated approach leg, routing.approach_legs), so the
simulation drives the same vehicles over the same roads as the running system.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dispatch.catalog import Catalog, load_catalog
from dispatch.cells import distance_m
from dispatch.context import fleet_for, road_network
from dispatch.fleet import Vehicle
from dispatch.hospitals import Hospital, load_hospitals
from dispatch.mci_stations import load_jurisdictions
from goldentime.settings import Settings
from routing import RoadNetwork, RoutingError, UnitPosition
from simulation.calls import PlaceSampler, place_sampler
from simulation.demand import CityDemand, city_demand
from simulation.errors import SimulationError
from simulation.service import ServiceTimes
from simulation.statistics import PublishedFigure, published_fire_arrival

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Station:
    station_id: str
    name: str
    lat: float
    lon: float
    kinds: frozenset[str]  # vehicle kinds housed here


@dataclass
class World:
    """Read-only inputs shared by every policy of one run (plus travel-time caches)."""

    network: RoadNetwork
    catalog: Catalog
    fleet: list[Vehicle]
    stations: dict[str, Station]
    hospitals: list[Hospital]
    demand: CityDemand
    places: PlaceSampler
    service: ServiceTimes
    published: list[PublishedFigure] = field(default_factory=list)
    network_name: str = ""
    jurisdictions: dict[str, str] = field(default_factory=dict)  # station id -> its 소방서
    _travel: dict[tuple[Point, Point, str], float] = field(default_factory=dict, repr=False)
    _hospital: dict[Point, tuple[Hospital, float]] = field(default_factory=dict, repr=False)
    _on_network: dict[Point, bool] = field(default_factory=dict, repr=False)

    def travel_s(self, origin: Point, destination: Point, *, vehicle: str) -> float:
        """Driving time by road (routing, approach legs off the graph); crow-flight beyond it."""
        key = (origin, destination, vehicle)
        found = self._travel.get(key)
        if found is None:
            eta = self.network.etas_from(origin, [destination], vehicle=vehicle)[0]
            if eta is None:
                eta = distance_m(*origin, *destination) / self.service.fallback_speed_mps
            found = self._travel[key] = eta
        return found

    def on_network(self, place: Point) -> bool:
        """True when ``place`` snaps to a road of the network (else: approach legs, estimates)."""
        found = self._on_network.get(place)
        if found is None:
            try:
                self.network.snap(place, vehicle="ambulance")
                found = True
            except RoutingError:
                found = False
            self._on_network[place] = found
        return found

    def hospital_for(self, place: Point) -> tuple[Hospital, float]:
        """The nearest emergency room by straight line and the ambulance's time to it."""
        found = self._hospital.get(place)
        if found is None:
            if not self.hospitals:
                raise SimulationError("no emergency room is known; cannot transport patients")
            nearest = min(self.hospitals, key=lambda h: distance_m(*place, h.lat, h.lon))
            found = (nearest, self.travel_s(place, (nearest.lat, nearest.lon), vehicle="ambulance"))
            self._hospital[place] = found
        return found

    def station_positions(self, kind: str) -> list[UnitPosition]:
        """Stations that house ``kind`` as move-up targets (ids are station ids)."""
        return [
            UnitPosition(s.station_id, s.lat, s.lon, vehicle=kind, name=s.name)
            for s in self.stations.values()
            if kind in s.kinds
        ]


def load_world(
    settings: Settings,
    *,
    network: RoadNetwork | None = None,
    service: ServiceTimes | None = None,
) -> World:
    """Load the simulated area's inputs from ``settings.data.seoul_dir``.

    ``network``: the road network to simulate on (default: dispatch's, from the settings).
    """
    data: Path = settings.data.seoul_dir
    if network is None:
        network = road_network(settings)
    units_csv = data / "units" / "fire_units.csv"
    fleet = fleet_for(network, units_csv)
    if not fleet:
        raise SimulationError(f"no station of {units_csv} reaches the road network")
    stations: dict[str, Station] = {}
    for vehicle in fleet:
        old = stations.get(vehicle.station_id)
        kinds = (old.kinds if old else frozenset()) | {vehicle.kind}
        stations[vehicle.station_id] = Station(
            vehicle.station_id, vehicle.station_name, vehicle.lat, vehicle.lon, kinds
        )
    demand = city_demand(data, network)
    return World(
        network=network,
        catalog=load_catalog(settings.dispatch.run_cards_file),
        fleet=fleet,
        stations=stations,
        hospitals=load_hospitals(data / "hospitals" / "emergency_rooms.csv"),
        demand=demand,
        places=place_sampler(data, network, demand),
        service=service or ServiceTimes(),
        published=published_fire_arrival(data / "stats" / "stats_119_seoul.yaml"),
        network_name=network.load_info.source,
        jurisdictions=load_jurisdictions(units_csv),
    )
