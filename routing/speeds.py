"""Travel-time model: speeds by road class for each vehicle class.

The shipped central-Seoul graph carries an imputed ``maxspeed`` (50 km/h on most edges), so
speeds are derived from the OSM ``highway`` class instead. The defaults are urban emergency-drive
speeds for central Seoul (dense signals, congestion, narrow residential streets):

==============  ======  ======  ======  =========  =======
highway class   engine  ladder  rescue  ambulance  command
==============  ======  ======  ======  =========  =======
motorway         60      54      60       66         72
trunk            50      45      50       55         60
primary          40      36      40       44         48
secondary        35      31.5    35       38.5       42
tertiary         30      27      30       33         36
unclassified     25      22.5    25       27.5       30
residential      20      18      20       22         24
living_street    10       9      10       11         12
==============  ======  ======  ======  =========  =======

(``*_link`` classes drive at ``link_factor`` (0.8) of their parent class; unknown classes at
``default_kmh``.) The per-class column is the engine speed times ``vehicle_factors``; the
optional ``emergency_factor`` multiplies every speed (1.0 = no lights-and-sirens gain).

Posted speed limits: where an edge carries a *real* limit (``maxspeed_kmh``: the standard
node-link MAX_SPD, the MOCT shapefile, an OSM ``maxspeed`` tag), the class speed is capped at
``limit_factor`` (0.8) x the limit: a 30 km/h school-zone street of a wide class is not driven
at the class speed; the average over a signalled link stays below its posted maximum. The
GraphML file's imputed ``maxspeed`` is never read (its edges have no ``maxspeed_kmh``).
Everything is configurable by building another `SpeedTable`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from routing.errors import RoutingError

VEHICLE_CLASSES: tuple[str, ...] = ("engine", "ladder", "rescue", "ambulance", "command")

# Order of importance, highest first: used to pick one class out of an OSMnx list
# ("['secondary_link', 'secondary']") and to define a route's "busiest" segment.
HIGHWAY_RANK: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "road",
    "residential",
    "service",
    "living_street",
)

_DEFAULT_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 60.0,
        "trunk": 50.0,
        "primary": 40.0,
        "secondary": 35.0,
        "tertiary": 30.0,
        "unclassified": 25.0,
        "road": 25.0,
        "residential": 20.0,
        "service": 15.0,
        "living_street": 10.0,
    }
)
_DEFAULT_FACTORS: Mapping[str, float] = MappingProxyType(
    {"engine": 1.0, "ladder": 0.9, "rescue": 1.0, "ambulance": 1.1, "command": 1.2}
)


def check_vehicle(vehicle: str) -> str:
    """Return ``vehicle`` if it is a known class, else raise a RoutingError naming the choices."""
    if vehicle not in VEHICLE_CLASSES:
        raise RoutingError(
            f"unknown vehicle class {vehicle!r}; expected one of {', '.join(VEHICLE_CLASSES)}"
        )
    return vehicle


def highway_rank(highway: str) -> int:
    """Rank of a highway class: 0 is the most important; a link ranks just below its parent."""
    base = highway.removesuffix("_link")
    rank = HIGHWAY_RANK.index(base) if base in HIGHWAY_RANK else len(HIGHWAY_RANK)
    return 2 * rank + (base != highway)


@dataclass(frozen=True, kw_only=True)
class SpeedTable:
    """Speeds (km/h) by highway class for the engine, scaled per vehicle class."""

    base_kmh: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_KMH))
    vehicle_factors: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_FACTORS))
    link_factor: float = 0.8
    default_kmh: float = 20.0
    emergency_factor: float = 1.0
    limit_factor: float = 0.8

    def __post_init__(self) -> None:
        speeds = [*self.base_kmh.values(), self.default_kmh]
        if any(not (0.0 < s <= 200.0) for s in speeds):
            raise RoutingError(f"speed table: every speed must be in (0, 200] km/h, got {speeds}")
        missing = [v for v in VEHICLE_CLASSES if v not in self.vehicle_factors]
        if missing:
            raise RoutingError(f"speed table: no vehicle factor for {', '.join(missing)}")
        factors = [
            *self.vehicle_factors.values(),
            self.link_factor,
            self.emergency_factor,
            self.limit_factor,
        ]
        if any(not (0.0 < f <= 5.0) for f in factors):
            raise RoutingError(f"speed table: factors must be in (0, 5], got {factors}")

    def kmh(self, highway: str, vehicle: str) -> float:
        """Speed of ``vehicle`` on a road of class ``highway``, in km/h."""
        check_vehicle(vehicle)
        if highway in self.base_kmh:
            speed = self.base_kmh[highway]
        elif highway.endswith("_link") and highway.removesuffix("_link") in self.base_kmh:
            speed = self.base_kmh[highway.removesuffix("_link")] * self.link_factor
        else:
            speed = self.default_kmh
        return speed * self.vehicle_factors[vehicle] * self.emergency_factor

    def metres_per_second(self, highway: str, vehicle: str) -> float:
        """Speed of ``vehicle`` on ``highway`` in m/s."""
        return self.kmh(highway, vehicle) / 3.6

    def arc_metres_per_second(
        self, highways: Sequence[str], maxspeed_kmh: npt.NDArray[np.float64], vehicle: str
    ) -> npt.NDArray[np.float64]:
        """Per arc speed (m/s): the class speed, capped at ``limit_factor`` x a posted limit.

        ``maxspeed_kmh`` is NaN where an arc has no real posted limit (no cap there).
        """
        speed = {h: self.metres_per_second(h, vehicle) for h in set(highways)}
        mps = np.fromiter((speed[h] for h in highways), dtype=np.float64, count=len(highways))
        with np.errstate(invalid="ignore"):
            cap = np.where(
                maxspeed_kmh > 0, maxspeed_kmh * self.limit_factor * self.emergency_factor, np.nan
            )
        result: npt.NDArray[np.float64] = np.fmin(mps, cap / 3.6)
        return result

    def max_metres_per_second(self, vehicle: str) -> float:
        """The fastest speed this table gives ``vehicle`` on any class (for search bounds)."""
        top = max([*self.base_kmh.values(), self.default_kmh])
        return top * self.vehicle_factors[vehicle] * self.emergency_factor / 3.6
