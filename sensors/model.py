"""What is monitored and how: structures, their sensors and each sensor's rules (immutable).

A :class:`SensorSpec` carries every rule the engine applies to the sensor:

* :class:`LevelThreshold`: a Schmitt trigger per level. The level latches when the value
  stays at or over ``raise_at`` for ``raise_after_s`` and unlatches only when it stays under
  ``clear_at`` (< ``raise_at``) for ``clear_after_s``: noise around a threshold cannot flap.
* :class:`CountRule`: ``count`` exceedance episodes over ``over`` within ``window_s`` (gusts),
  cleared after ``clear_after_s`` with no reading over ``clear_over``.
* :class:`RateRule`: a rise of ``rise`` within ``per_s`` (e.g. 0.5 m per hour), cleared after
  ``clear_after_s`` below half that rate.
* :class:`FaultLimits`: the physical range, the largest plausible step, the flatline and gap
  times that mark the *sensor* as faulty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from goldentime.contracts.sensors import UNITS, AlarmLevel, SensorKind
from sensors.errors import RegistryError


class StructureKind(StrEnum):
    BRIDGE = "bridge"
    TUNNEL = "tunnel"


@dataclass(frozen=True, slots=True)
class LevelThreshold:
    level: AlarmLevel
    raise_at: float
    clear_at: float
    raise_after_s: float = 0.0
    clear_after_s: float = 0.0

    def __post_init__(self) -> None:
        if self.level is AlarmLevel.CLEAR:
            raise RegistryError("a threshold level cannot be 'clear'")
        if not self.clear_at < self.raise_at:
            raise RegistryError(
                f"{self.level} threshold: clear_at {self.clear_at} must be below raise_at "
                f"{self.raise_at} (hysteresis)"
            )
        if self.raise_after_s < 0 or self.clear_after_s < 0:
            raise RegistryError(f"{self.level} threshold: hold times must be >= 0")


@dataclass(frozen=True, slots=True)
class CountRule:
    name: str
    level: AlarmLevel
    over: float
    count: int
    window_s: float
    clear_over: float
    clear_after_s: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.window_s <= 0 or self.clear_after_s <= 0:
            raise RegistryError(f"count rule {self.name}: count, window and clear time > 0")
        if self.clear_over > self.over:
            raise RegistryError(f"count rule {self.name}: clear_over above over")


@dataclass(frozen=True, slots=True)
class RateRule:
    name: str
    level: AlarmLevel
    rise: float
    per_s: float
    clear_after_s: float
    min_span_s: float = 0.0

    def __post_init__(self) -> None:
        if self.rise <= 0 or self.per_s <= 0 or self.clear_after_s < 0:
            raise RegistryError(f"rate rule {self.name}: rise and per_s must be > 0")


@dataclass(frozen=True, slots=True)
class FaultLimits:
    physical_min: float
    physical_max: float
    flatline_s: float
    gap_s: float
    max_step: float | None = None
    max_slew_per_s: float = 0.0
    clear_after_good: int = 3

    def __post_init__(self) -> None:
        if not self.physical_min < self.physical_max:
            raise RegistryError("physical_min must be below physical_max")
        if self.flatline_s <= 0 or self.gap_s <= 0 or self.clear_after_good < 1:
            raise RegistryError("flatline_s, gap_s and clear_after_good must be positive")


@dataclass(frozen=True, slots=True)
class SensorSpec:
    sensor_id: str
    structure_id: str
    kind: SensorKind
    faults: FaultLimits
    levels: tuple[LevelThreshold, ...] = ()
    count_rules: tuple[CountRule, ...] = ()
    rate_rules: tuple[RateRule, ...] = ()
    absolute: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        ranks = [t.level.rank for t in self.levels]
        if ranks != sorted(set(ranks)):
            raise RegistryError(f"sensor {self.sensor_id}: levels must rise, one per level")
        raises = [t.raise_at for t in self.levels]
        if raises != sorted(raises):
            raise RegistryError(f"sensor {self.sensor_id}: raise_at must grow with the level")

    @property
    def unit(self) -> str:
        return UNITS[self.kind]


@dataclass(frozen=True, slots=True)
class Structure:
    structure_id: str
    name: str
    kind: StructureKind
    source: str
    lat: float
    lon: float
    geometry_wkt: str
    gu: str | None = None
    safety_grade: str | None = None
    length_m: float | None = None
    edges: tuple[tuple[int, int, int], ...] = ()  # of the central OSM graph
    sensors: tuple[SensorSpec, ...] = field(default=())
    note: str = ""
    # The structure's links on the Seoul standard node-link network (MOCT node ids, key 0)
    network_links: tuple[tuple[int, int, int], ...] = ()
    # The names of the roads it carries: a link matched by geometry must bear one of them
    road_names: tuple[str, ...] = ()
