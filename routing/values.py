"""Plain value types of the routing API."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routing.errors import RoutingError
from routing.speeds import check_vehicle


def check_latlon(point: tuple[float, float], *, what: str) -> tuple[float, float]:
    """Validate a (lat, lon) pair, raising RoutingError naming ``what``."""
    try:
        lat, lon = float(point[0]), float(point[1])
    except (TypeError, ValueError, IndexError) as err:
        raise RoutingError(f"{what}: expected (lat, lon), got {point!r}") from err
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise RoutingError(f"{what}: ({lat}, {lon}) is not a valid latitude, longitude")
    return lat, lon


@dataclass(frozen=True)
class UnitPosition:
    """Where a unit is (or is stationed) and what kind of vehicle it is."""

    unit_id: str
    lat: float
    lon: float
    vehicle: str = "engine"
    name: str = ""

    def __post_init__(self) -> None:
        if not self.unit_id:
            raise RoutingError("unit position: unit_id is empty")
        check_latlon((self.lat, self.lon), what=f"unit {self.unit_id}")
        check_vehicle(self.vehicle)


@dataclass(frozen=True)
class Route:
    """A driven path: ETA for its vehicle, length, GeoJSON geometry, street names, edges."""

    eta_s: float
    distance_m: float
    geometry: dict[str, Any]  # GeoJSON LineString, [lon, lat]
    streets: list[str]  # ordered, consecutive duplicates merged
    edges: list[tuple[int, int, int]]  # (u, v, key) of the networkx graph, in driving order
    vehicle: str = "engine"
    metric: str = "time"
    origin: tuple[float, float] = (0.0, 0.0)  # as asked, (lat, lon)
    destination: tuple[float, float] = (0.0, 0.0)
    snap_origin_m: float = 0.0
    snap_destination_m: float = 0.0
    avoided_edge: tuple[int, int, int] | None = None  # set on an alternative route
    # Estimated legs off the road graph (routing.approach_legs), included in eta_s and distance_m:
    approach_s: float = 0.0
    approach_m: float = 0.0

    @property
    def estimated(self) -> bool:
        """True when part of the route is an estimated approach leg off the road graph."""
        return self.approach_m > 0.0 or self.approach_s > 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the `goldentime route --json` object)."""
        return {
            "eta_s": round(self.eta_s, 1),
            "duration_s": round(self.eta_s, 1),  # driving time, whatever the metric
            "distance_m": round(self.distance_m, 1),
            "geometry": self.geometry,
            "streets": self.streets,
            "road_names": self.streets,
            "edges": [list(e) for e in self.edges],
            "vehicle": self.vehicle,
            "metric": self.metric,
            "origin": list(self.origin),
            "destination": list(self.destination),
            "snap_origin_m": round(self.snap_origin_m, 1),
            "snap_destination_m": round(self.snap_destination_m, 1),
            "avoided_edge": list(self.avoided_edge) if self.avoided_edge else None,
            "approach_s": round(self.approach_s, 1),
            "approach_m": round(self.approach_m, 1),
        }


@dataclass(eq=False, slots=True)
class UnitEta:
    """One unit's ETA to an incident. ``eta_s`` is None when beyond the cutoff or unreachable.

    ``note`` says why a unit has no ETA, or, with an ETA, that it includes an estimated approach
    from outside the road graph (routing.approach_legs.APPROACH_NOTE).

    ``distance_m`` (along the fastest path) and ``route`` (top N only) are derived from the
    search tree on first access, so ranking 100+ units stays cheap.
    """

    unit_id: str
    eta_s: float | None
    vehicle: str
    rank: int
    note: str | None = None
    _path_length: Callable[[], float] | None = field(default=None, repr=False)
    _route: Callable[[], Route] | None = field(default=None, repr=False)
    _cache: dict[str, Any] | None = field(default=None, repr=False)  # made on first access

    @property
    def distance_m(self) -> float | None:
        """Length of the fastest path in metres (None when unreachable)."""
        if self._path_length is None:
            return None
        if self._cache is None:
            self._cache = {}
        if "distance" not in self._cache:
            self._cache["distance"] = self._path_length()
        value: float = self._cache["distance"]
        return value

    @property
    def route(self) -> Route | None:
        """The route for the top-N units, else None."""
        if self._route is None:
            return None
        if self._cache is None:
            self._cache = {}
        if "route" not in self._cache:
            self._cache["route"] = self._route()
        value: Route = self._cache["route"]
        return value

    def to_json(self, *, with_route: bool = True) -> dict[str, Any]:
        """JSON-ready dict of this ETA."""
        route = self.route if with_route else None
        distance = self.distance_m
        return {
            "unit_id": self.unit_id,
            "vehicle": self.vehicle,
            "rank": self.rank,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
            "distance_m": None if distance is None else round(distance, 1),
            "note": self.note,
            "route": route.to_json() if route else None,
        }


@dataclass(frozen=True)
class LoadInfo:
    """What loading a road graph kept and dropped."""

    source: str
    nodes_total: int
    nodes_kept: int
    nodes_dropped: int  # outside the largest strongly connected component
    components_dropped: int
    edges_kept: int
    edges_dropped: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dict(self.__dict__)
