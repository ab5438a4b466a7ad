"""Vehicle dimensions per class, and the links a vehicle may never use (height/weight limits).

A posted height limit (통과높이 제한) or weight limit (중량 제한: a weak
bridge, an old overpass) is a *permanent* restriction: a vehicle taller or heavier than the
limit never gets a route over the link. The figures are those of the vehicles a Seoul
safety centre runs (typical Korean builds, rounded up: a route must never depend on a vehicle
being smaller than it is):

=========  ================================================  ========  ==========
class      typical vehicle                                   height m  gross t
=========  ================================================  ========  ==========
engine     중형 펌프차 (medium pumper, 2,800-3,500 L water)       3.2       16
ladder     고가사다리차 (46-53 m aerial ladder, 3-axle chassis)   3.9       30
rescue     구조공작차 (heavy rescue truck, crane/winch)          3.4       17
ambulance  특수구급차 (van-based: Solati/Starex high roof)       2.7        4
command    지휘차 (SUV / van command car)                      2.0        2.6
=========  ================================================  ========  ==========

Korean road law allows 4.0 m height and 40 t gross without a permit, so a ladder truck sits just
under the height ceiling and is the heaviest vehicle of a station. A vehicle *exceeds* a limit
when its figure is strictly greater than the posted one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from routing.errors import RoutingError


@dataclass(frozen=True, kw_only=True)
class VehicleDimensions:
    """Height (m) and gross weight (t) of one vehicle class."""

    height_m: float
    weight_t: float
    title: str = ""

    def __post_init__(self) -> None:
        if not (0.5 <= self.height_m <= 6.0):
            raise RoutingError(f"vehicle height_m must be in [0.5, 6] m, got {self.height_m}")
        if not (0.2 <= self.weight_t <= 80.0):
            raise RoutingError(f"vehicle weight_t must be in [0.2, 80] t, got {self.weight_t}")


VEHICLE_DIMENSIONS: Mapping[str, VehicleDimensions] = MappingProxyType(
    {
        "engine": VehicleDimensions(height_m=3.2, weight_t=16.0, title="중형 펌프차"),
        "ladder": VehicleDimensions(height_m=3.9, weight_t=30.0, title="고가사다리차"),
        "rescue": VehicleDimensions(height_m=3.4, weight_t=17.0, title="구조공작차"),
        "ambulance": VehicleDimensions(height_m=2.7, weight_t=4.0, title="특수구급차"),
        "command": VehicleDimensions(height_m=2.0, weight_t=2.6, title="지휘차"),
    }
)


def dimensions_of(
    vehicle: str, table: Mapping[str, VehicleDimensions] = VEHICLE_DIMENSIONS
) -> VehicleDimensions:
    """The dimensions of ``vehicle`` (RoutingError naming the classes if unknown)."""
    try:
        return table[vehicle]
    except KeyError as err:
        raise RoutingError(
            f"no dimensions for vehicle class {vehicle!r}; known: {', '.join(table)}"
        ) from err


def exceeded(
    dims: VehicleDimensions,
    max_height_m: npt.NDArray[np.float64],
    max_weight_t: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Per arc: True where the vehicle is taller or heavier than the posted limit (NaN: none)."""
    with np.errstate(invalid="ignore"):
        too_tall = np.nan_to_num(max_height_m, nan=np.inf) < dims.height_m
        too_heavy = np.nan_to_num(max_weight_t, nan=np.inf) < dims.weight_t
    result: npt.NDArray[np.bool_] = too_tall | too_heavy
    return result
