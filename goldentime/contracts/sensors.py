"""Wire contracts of bridge and tunnel monitoring: readings and alarms.

* :class:`SensorReading` on ``sensor.readings`` (:data:`goldentime.topics.SENSOR_READINGS`),
  keyed by ``structure_id`` so one structure's sensors are processed by one worker. The ``id``
  is stable per reading (adapters that get none use ``{sensor_id}:{epoch ms}``), so a
  redelivered reading changes nothing. ``measured_at`` is the event time; consumers refuse
  readings more than :data:`MAX_FUTURE_SKEW_S` ahead of their clock. A message value is either
  one reading object or a JSON array of up to :data:`MAX_READINGS_PER_MESSAGE` readings of
  the key's structure, in event-time order (adapters that receive batches pack them so a
  worker pays the per-message cost once per batch); :func:`encode_readings` writes one.
* :class:`SensorAlarm` on ``sensor.alarms`` (:data:`SENSOR_ALARMS`, declared here), keyed by
  ``structure_id``: one record per level change of one rule of one sensor. ``fault=True``
  records say a *sensor* is broken (flatline, spike, gap, out of range, wrong unit) and never
  mean the structure is in danger; act only on ``fault=False`` records. ``structure_level`` is
  the highest real level over all rules of the structure after this change, so a consumer that
  closes roads can act on it alone.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

import orjson
from pydantic import Field, model_validator

from goldentime.contracts.core import AwareDatetime, Record, RecordId
from goldentime.topics import SENSOR_ALARMS

__all__ = ["MAX_FUTURE_SKEW_S", "MAX_READINGS_PER_MESSAGE", "SENSOR_ALARMS"]

#: The most readings one ``sensor.readings`` message may carry (a JSON array).
MAX_READINGS_PER_MESSAGE = 500

#: How far ahead of the consumer's clock a reading's ``measured_at`` may be (clock skew).
MAX_FUTURE_SKEW_S = 5.0


class SensorKind(StrEnum):
    WATER_LEVEL = "water_level"
    ACCELERATION = "acceleration"
    WIND = "wind"
    STRAIN = "strain"
    DISPLACEMENT = "displacement"
    CO = "co"
    SMOKE = "smoke"
    TEMPERATURE = "temperature"


#: The one unit each kind is reported in; anything else is refused (no silent conversion).
UNITS: dict[SensorKind, str] = {
    SensorKind.WATER_LEVEL: "m",
    SensorKind.ACCELERATION: "gal",
    SensorKind.WIND: "m/s",
    SensorKind.STRAIN: "microstrain",
    SensorKind.DISPLACEMENT: "mm",
    SensorKind.CO: "ppm",
    SensorKind.SMOKE: "1/m",
    SensorKind.TEMPERATURE: "degC",
}


class AlarmLevel(StrEnum):
    CLEAR = "clear"
    WATCH = "watch"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {AlarmLevel.CLEAR: 0, AlarmLevel.WATCH: 1, AlarmLevel.WARNING: 2, AlarmLevel.CRITICAL: 3}


class FaultKind(StrEnum):
    FLATLINE = "flatline"
    SPIKE = "spike"
    GAP = "gap"
    OUT_OF_RANGE = "out_of_range"
    WRONG_UNIT = "wrong_unit"


class SensorReading(Record):
    """One measurement of one sensor (topic ``sensor.readings``, keyed by structure id)."""

    structure_id: RecordId = Field(description="The monitored bridge or tunnel.")
    sensor_id: RecordId = Field(description="The sensor, unique over all structures.")
    kind: SensorKind
    value: float = Field(
        strict=True, allow_inf_nan=False, description="The measured value (a JSON number)."
    )
    unit: str = Field(min_length=1, max_length=16, description="Must match the sensor's unit.")
    measured_at: AwareDatetime = Field(description="When the sensor measured (event time).")

    @property
    def event_time(self) -> datetime:
        return self.measured_at


class SensorAlarm(Record):
    """A level change of one rule of one sensor, or a sensor-fault episode (``sensor.alarms``).

    ``id`` is ``{sensor_id}:{rule}:{epoch ms of raised_at}:{level}``: reprocessing the same
    readings yields the same ids, so consumers drop repeats.
    """

    structure_id: RecordId
    structure_name: str = Field(default="", max_length=200)
    sensor_id: RecordId
    kind: SensorKind
    rule: str = Field(
        min_length=1, max_length=40, description="level, count_window, rate or fault."
    )
    level: AlarmLevel = Field(description="The rule's level after this change.")
    previous_level: AlarmLevel
    structure_level: AlarmLevel = Field(
        description="Highest real (non-fault) level over the structure's rules after this."
    )
    fault: bool = Field(description="True: the sensor is faulty; not a structural alarm.")
    fault_kind: FaultKind | None = None
    reason: str = Field(min_length=1, max_length=1000)
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str = Field(default="", max_length=16)
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    raised_at: AwareDatetime = Field(description="Event time of the reading that decided it.")
    reading_ids: list[RecordId] = Field(
        default_factory=list, max_length=50, description="Readings that caused the change."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.fault != (self.fault_kind is not None):
            raise ValueError("fault_kind is set exactly when fault is true")
        if self.level == self.previous_level:
            raise ValueError("an alarm record is a change: level equals previous_level")
        return self

    @property
    def event_time(self) -> datetime:
        return self.raised_at


def encode_readings(readings: list[SensorReading]) -> bytes:
    """One ``sensor.readings`` message value: a single object, or an array of several."""
    if not 1 <= len(readings) <= MAX_READINGS_PER_MESSAGE:
        raise ValueError(f"1 to {MAX_READINGS_PER_MESSAGE} readings per message")
    if len(readings) == 1:
        return orjson.dumps(readings[0].model_dump(mode="json"))
    return orjson.dumps([r.model_dump(mode="json") for r in readings])
