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

dispatch does not import the sensors package: what it reads of a monitored structure is
declared here (:class:`MonitoredStructure`, :class:`SensorRules`), and the composition root
hands the registry in (``goldentime worker dispatch`` in ops loads ``sensors.registry``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import shapely

from dispatch.correlate import Signal
from goldentime.contracts import IncidentType
from goldentime.contracts.alerts import AlertAction, AlertRequest
from goldentime.contracts.sensors import AlarmLevel, SensorAlarm, SensorKind
from routing import RoadNetwork

ALERT_CLASS = "안전안내"
ALERT_ACTOR = "golden-time:sensors"


class LevelHold(Protocol):
    """A level threshold, as far as clearing goes."""

    @property
    def clear_at(self) -> float: ...

    @property
    def clear_after_s(self) -> float: ...


class RuleHold(Protocol):
    """A named count or rate rule, as far as clearing goes."""

    @property
    def name(self) -> str: ...

    @property
    def clear_after_s(self) -> float: ...


class SensorRules(Protocol):
    """The rules of one sensor that say how long a clear must hold (a registry sensor)."""

    @property
    def sensor_id(self) -> str: ...

    @property
    def levels(self) -> Sequence[LevelHold]: ...

    @property
    def count_rules(self) -> Sequence[RuleHold]: ...

    @property
    def rate_rules(self) -> Sequence[RuleHold]: ...


class MonitoredStructure(Protocol):
    """A bridge or tunnel of the structure registry, as dispatch reads it.

    ``edges`` are edges of the central OSM graph, ``network_links`` links of the Seoul standard
    node-link network; ``road_names`` the roads it carries (see :func:`directory_of`).
    """

    @property
    def structure_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...  # bridge | tunnel

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...

    @property
    def gu(self) -> str | None: ...

    @property
    def geometry_wkt(self) -> str: ...

    @property
    def edges(self) -> Sequence[tuple[int, int, int]]: ...

    @property
    def network_links(self) -> Sequence[tuple[int, int, int]]: ...

    @property
    def road_names(self) -> Sequence[str]: ...

    @property
    def sensors(self) -> Sequence[SensorRules]: ...


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
    sensors: Mapping[str, SensorRules]

    @classmethod
    def of(cls, structure: MonitoredStructure) -> StructureInfo:
        return cls(
            structure_id=structure.structure_id,
            name=structure.name,
            kind=str(structure.kind),
            lat=structure.lat,
            lon=structure.lon,
            gu=structure.gu,
            edges=tuple(structure.edges),
            sensors={s.sensor_id: s for s in structure.sensors},
        )


class StructureDirectory:
    """Monitored structures by id (from the structure registry, see :func:`directory_of`)."""

    def __init__(self, structures: list[StructureInfo]) -> None:
        self._by_id = {s.structure_id: s for s in structures}

    def get(self, structure_id: str) -> StructureInfo | None:
        return self._by_id.get(structure_id)

    def __len__(self) -> int:
        return len(self._by_id)


GEOMETRY_BUFFER_M = 15.0  # a bridge deck and its approaches, not the parallel street
GEOMETRY_MIN_SHARE = 0.6  # of an edge's length that must lie along the structure


def _bears(data: dict[str, object], road_names: Sequence[str]) -> bool:
    """True when the edge carries one of ``road_names`` (any, when none are given)."""
    if not road_names:
        return True
    raw = data.get("names") or []
    names = [str(n) for n in raw] if isinstance(raw, list | tuple) else [str(raw)]
    if data.get("name"):
        names.append(str(data["name"]))
    return any(road in name for name in names for road in road_names)


def edges_along(
    network: RoadNetwork,
    structures: Iterable[tuple[str, str]],
    *,
    road_names: Sequence[Sequence[str]] | None = None,
    buffer_m: float = GEOMETRY_BUFFER_M,
    min_share: float = GEOMETRY_MIN_SHARE,
) -> list[tuple[tuple[int, int, int], ...]]:
    """For each (geometry WKT, kind) the road-graph edges of that structure (both directions).

    An edge counts when it carries the structure's attribute (``bridge`` for a bridge, any
    value: the node-link's overpasses are ``viaduct``; ``tunnel`` for a tunnel, the node-link's
    underpasses included), at least ``min_share`` of its length lies within ``buffer_m`` metres
    of the structure (the street running under a flyover, on the same line, does not), and,
    when ``road_names`` gives names for the structure, it bears one of them.
    """
    graph = network.graph
    keys: list[tuple[int, int, int]] = []
    kinds: list[set[str]] = []
    datas: list[dict[str, object]] = []
    lines: list[shapely.Geometry | None] = []
    straight: list[int] = []  # edges drawn as the segment between their nodes
    ends: list[tuple[float, float, float, float]] = []
    for u, v, k, data in graph.edges(keys=True, data=True):
        kinds.append({a for a in ("bridge", "tunnel") if data.get(a) not in (None, "", "no")})
        keys.append((int(u), int(v), int(k)))
        datas.append(data)
        geometry = data.get("geometry")
        if geometry is None:
            a, b = graph.nodes[u], graph.nodes[v]
            straight.append(len(lines))
            ends.append((a["x"], a["y"], b["x"], b["y"]))
        lines.append(geometry)
    if straight:
        coords = np.asarray(ends, dtype=np.float64).reshape(-1, 2, 2)
        for i, line in zip(straight, shapely.linestrings(coords), strict=True):
            lines[i] = line
    # one projection call for every edge (per-edge calls cost seconds on the city network)
    metric = list(network.index.polygon_metres(shapely.GeometryCollection(lines)).geoms)
    tree = shapely.STRtree(metric)
    wanted = list(structures)
    names = list(road_names) if road_names is not None else [()] * len(wanted)
    if len(names) != len(wanted):
        raise ValueError("road_names must give one entry per structure")
    matched: list[tuple[tuple[int, int, int], ...]] = []
    for (wkt, kind), roads in zip(wanted, names, strict=True):
        zone = network.index.polygon_metres(shapely.from_wkt(wkt)).buffer(buffer_m)
        found = []
        for i in tree.query(zone, predicate="intersects"):
            line = metric[int(i)]
            if kind not in kinds[int(i)] or line.length == 0:
                continue
            if not _bears(datas[int(i)], roads):
                continue
            if line.intersection(zone).length >= min_share * line.length:
                found.append(keys[int(i)])
        matched.append(tuple(sorted(found)))
    return matched


def network_edges(
    structure: MonitoredStructure, network: RoadNetwork
) -> tuple[tuple[int, int, int], ...] | None:
    """The structure's listed links that ``network`` has: its node-link links on the Seoul
    network, its OSM edges on the central graph; None when neither list is wholly there."""
    graph = network.graph
    for listed in (structure.network_links, structure.edges):
        if listed and all(graph.has_edge(u, v, k) for u, v, k in listed):
            return tuple(listed)
    return None


def directory_of(
    structures: Iterable[MonitoredStructure], *, network: RoadNetwork | None = None
) -> StructureDirectory:
    """The directory of the registry's ``structures`` (``sensors.registry.load_registry``,
    handed in by the composition root).

    With ``network``, each structure gets its links on that network: the links the registry
    lists for it when the network has them all (the Han bridges and 사직터널 on the Seoul
    node-link network, the OSM edges on the central graph), else the links along its geometry
    that bear its road name (`edges_along`), so its alarms close the roads it carries on any
    network. Without ``network``: the registry's central-graph edges.
    """
    registry = list(structures)
    infos = [StructureInfo.of(s) for s in registry]
    if network is not None:
        by_geometry: list[int] = []
        for index, structure in enumerate(registry):
            listed = network_edges(structure, network)
            if listed is None:
                by_geometry.append(index)
            infos[index] = dataclasses.replace(infos[index], edges=listed or ())
        wanted = [(registry[i].geometry_wkt, str(registry[i].kind)) for i in by_geometry]
        roads = [registry[i].road_names for i in by_geometry]
        found = edges_along(network, wanted, road_names=roads)
        for index, edges in zip(by_geometry, found, strict=True):
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


def clear_hold_s(alarm: SensorAlarm, spec: SensorRules | None) -> float | None:
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
