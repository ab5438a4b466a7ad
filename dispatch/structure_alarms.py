"""What dispatch does with bridge and tunnel alarms (``sensor.alarms``), decided purely.

Only real alarms count (``fault=False``); a broken sensor never opens an incident. dispatch
acts on ``structure_level`` (the highest real level of the structure after the change):

* ``critical``: a signal (kind ``sensor``; type ``flood`` for a water level, else
  ``structure_alarm``) opens or joins an incident at the structure, with the alarm's reason;
  the first critical alarm of an episode also closes the structure's road-graph edges and
  asks for a 안전안내 warning draft for the structure's gu (Korean and English).
* below ``critical`` while an episode is open: the edges reopen and the timeline says how long
  the readings stayed below the clear level.
* ``watch`` / ``warning`` otherwise: a timeline line on an open incident of the structure, if
  there is one (no new incident).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dispatch.correlate import Signal
from goldentime.contracts import IncidentType
from goldentime.contracts.alerts import AlertAction, AlertRequest
from goldentime.contracts.sensors import AlarmLevel, SensorAlarm, SensorKind
from sensors.model import SensorSpec, Structure

ALERT_CLASS = "안전안내"
ALERT_ACTOR = "golden-time:sensors"


@dataclass(frozen=True, slots=True)
class StructureInfo:
    """What dispatch needs to know about a monitored structure."""

    structure_id: str
    name: str
    kind: str  # bridge | tunnel
    lat: float
    lon: float
    gu: str | None
    edges: tuple[tuple[int, int, int], ...]
    sensors: dict[str, SensorSpec]

    @classmethod
    def of(cls, structure: Structure) -> StructureInfo:
        return cls(
            structure_id=structure.structure_id,
            name=structure.name,
            kind=structure.kind.value,
            lat=structure.lat,
            lon=structure.lon,
            gu=structure.gu,
            edges=structure.edges,
            sensors={s.sensor_id: s for s in structure.sensors},
        )


class StructureDirectory:
    """Monitored structures by id (from the sensors registry)."""

    def __init__(self, structures: list[StructureInfo]) -> None:
        self._by_id = {s.structure_id: s for s in structures}

    def get(self, structure_id: str) -> StructureInfo | None:
        return self._by_id.get(structure_id)

    def __len__(self) -> int:
        return len(self._by_id)


def load_structures(seoul_data_dir: Path) -> StructureDirectory:
    """The sensors registry's structures (the public ``sensors.registry.load_registry``)."""
    from sensors.registry import load_registry

    return StructureDirectory([StructureInfo.of(s) for s in load_registry(seoul_data_dir)])


def short_id(prefix: str, alarm_id: str) -> str:
    """A short stable id derived from an alarm id (timeline ids stay within 80 characters)."""
    return f"{prefix}-{hashlib.sha256(alarm_id.encode()).hexdigest()[:16]}"


def incident_type_of(alarm: SensorAlarm) -> IncidentType:
    return (
        IncidentType.FLOOD if alarm.kind is SensorKind.WATER_LEVEL else IncidentType.STRUCTURE_ALARM
    )


def describe(alarm: SensorAlarm, structure: StructureInfo) -> str:
    return (
        f"{structure.name}: {alarm.level.value} ({alarm.rule}, {alarm.sensor_id}): {alarm.reason}"
    )


def alarm_signal(alarm: SensorAlarm, structure: StructureInfo) -> Signal:
    """The signal a critical alarm feeds into incident intake."""
    return Signal(
        id=short_id("sensor", alarm.id),
        kind="sensor",
        at=alarm.raised_at,
        lat=structure.lat,
        lon=structure.lon,
        type=incident_type_of(alarm),
        description=describe(alarm, structure),
        source=f"sensor:{alarm.sensor_id}",
        payload=alarm.model_dump(mode="json"),
    )


def clear_hold_s(alarm: SensorAlarm, spec: SensorSpec | None) -> float | None:
    """How long the readings had to stay below the clear level for this (falling) change."""
    if spec is None:
        return None
    if alarm.rule == "level":
        for threshold in spec.levels:
            if alarm.threshold is not None and threshold.clear_at == alarm.threshold:
                return threshold.clear_after_s
        return None
    name = alarm.rule.split(".", 1)[-1]
    holds = {r.name: r.clear_after_s for r in spec.count_rules}
    holds |= {r.name: r.clear_after_s for r in spec.rate_rules}
    return holds.get(name)


def cleared_line(alarm: SensorAlarm, structure: StructureInfo) -> str:
    """``<name>: cleared after N min below X unit (...)``."""
    hold = clear_hold_s(alarm, structure.sensors.get(alarm.sensor_id))
    below = (
        f"{alarm.threshold:g} {alarm.unit}".strip() if alarm.threshold is not None else "the limit"
    )
    after = f"{hold / 60:g} min" if hold is not None else "the hold time"
    now = alarm.structure_level.value
    return (
        f"{structure.name}: {alarm.kind.value} cleared after {after} below {below} "
        f"({alarm.sensor_id}, now {now}): {alarm.reason}"
    )


def closure_reason(alarm: SensorAlarm, structure: StructureInfo) -> str:
    return f"{structure.name} closed: critical {alarm.kind.value} ({alarm.reason})"


def alert_draft(
    alarm: SensorAlarm, structure: StructureInfo, *, gu: str | None, at: datetime
) -> AlertRequest:
    """A 안전안내 draft request for a supervisor (``alert.requests``, action ``drafted``).

    The alerts package has no record for "please draft"; this uses its ``AlertRequest`` with
    the class in the headline and the gu as the area (see docs/dispatch.md).
    """
    area = gu or "서울특별시"
    value = f"{alarm.value:g} {alarm.unit}".strip() if alarm.value is not None else ""
    if alarm.kind is SensorKind.WATER_LEVEL:
        template = "flood"
        ko = (
            f"[{ALERT_CLASS}] {structure.name} 수위 {value} 상승으로 차량·보행자 통행을 "
            f"통제합니다. 하천변 접근을 피하고 다른 길로 우회하세요."
        )
        en = (
            f"[Safety notice] {structure.name}: river level {value}; the bridge is closed to "
            f"vehicles and pedestrians. Keep away from the riverside and use another route."
        )
    else:
        template = "safety_notice"
        what = "터널" if structure.kind == "tunnel" else "교량"
        ko = (
            f"[{ALERT_CLASS}] {structure.name} {what} 이상 감지({alarm.kind.value} {value})로 "
            f"통행을 통제합니다. 다른 길로 우회하세요."
        )
        en = (
            f"[Safety notice] {structure.name} is closed to traffic after an abnormal "
            f"{alarm.kind.value} reading ({value}). Please use another route."
        )
    alert_id = short_id("sa", alarm.id)
    return AlertRequest(
        id=f"{alert_id}:requested",
        alert_id=alert_id,
        action=AlertAction.DRAFTED,
        at=at,
        actor=ALERT_ACTOR,
        msg_type="Alert",
        exercise=False,
        template=template,
        headline_ko=ko[:300],
        headline_en=en[:300],
        area_desc=area,
    )


def is_critical(alarm: SensorAlarm) -> bool:
    return not alarm.fault and alarm.structure_level is AlarmLevel.CRITICAL
