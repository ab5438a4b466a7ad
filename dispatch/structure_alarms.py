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

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import shapely

from dispatch.correlate import Signal
from goldentime.contracts import IncidentType
from goldentime.contracts.alerts import AlertAction, AlertRequest
from goldentime.contracts.sensors import AlarmLevel, SensorAlarm, SensorKind
from routing import RoadNetwork
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


GEOMETRY_BUFFER_M = 15.0  # a bridge deck and its approaches, not the parallel street
GEOMETRY_MIN_SHARE = 0.6  # of an edge's length that must lie along the structure


def edges_along(
    network: RoadNetwork,
    structures: Iterable[tuple[str, str]],
    *,
    buffer_m: float = GEOMETRY_BUFFER_M,
    min_share: float = GEOMETRY_MIN_SHARE,
) -> list[tuple[tuple[int, int, int], ...]]:
    """For each (geometry WKT, kind) the road-graph edges of that structure (both directions).

    An edge counts when it carries the structure's OSM attribute (``bridge`` for a bridge,
    ``tunnel`` for a tunnel) and at least ``min_share`` of its length lies within ``buffer_m``
    metres of the structure: the street running under a flyover, on the same line, does not.
    """
    keys: list[tuple[int, int, int]] = []
    kinds: list[set[str]] = []
    lines = []
    for u, v, k, data in network.graph.edges(keys=True, data=True):
        kinds.append({a for a in ("bridge", "tunnel") if data.get(a) not in (None, "", "no")})
        geometry = data.get("geometry")
        if geometry is None:
            a, b = network.graph.nodes[u], network.graph.nodes[v]
            geometry = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        keys.append((int(u), int(v), int(k)))
        lines.append(network.index.polygon_metres(geometry))
    tree = shapely.STRtree(lines)
    matched: list[tuple[tuple[int, int, int], ...]] = []
    for wkt, kind in structures:
        zone = network.index.polygon_metres(shapely.from_wkt(wkt)).buffer(buffer_m)
        found = []
        for i in tree.query(zone, predicate="intersects"):
            line = lines[int(i)]
            if kind not in kinds[int(i)] or line.length == 0:
                continue
            if line.intersection(zone).length >= min_share * line.length:
                found.append(keys[int(i)])
        matched.append(tuple(sorted(found)))
    return matched


def load_structures(
    seoul_data_dir: Path, *, network: RoadNetwork | None = None
) -> StructureDirectory:
    """The sensors registry's structures (the public ``sensors.registry.load_registry``).

    With ``network``, a structure the registry knows only by geometry (a bridge from the
    national register) gets the graph edges that run along it, so its alarms close roads too.
    """
    from sensors.registry import load_registry

    registry = list(load_registry(seoul_data_dir))
    infos = [StructureInfo.of(s) for s in registry]
    if network is not None:
        by_geometry = [i for i, s in enumerate(registry) if not s.edges]
        wanted = [(registry[i].geometry_wkt, registry[i].kind.value) for i in by_geometry]
        for index, edges in zip(by_geometry, edges_along(network, wanted), strict=True):
            if edges:
                infos[index] = dataclasses.replace(infos[index], edges=edges)
    return StructureDirectory(infos)


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
