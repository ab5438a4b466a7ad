"""Correlation rules: does a signal (call, video or sensor event) belong to an open incident?

Pure functions over plain values, so the rules are unit-tested without a database. A signal
attaches to the nearest open incident of a compatible type (same family) within the larger of
the two types' radius and time window, measured from the incident's location and its latest
activity; otherwise it opens a new incident. Every decision carries its reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.catalog import Catalog
from dispatch.cells import cell_of, cells_within, distance_m
from goldentime.contracts import IncidentStatus, IncidentType

ACTIVE = frozenset({IncidentStatus.OPEN, IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE})


@dataclass(frozen=True, slots=True)
class Signal:
    """Anything that may tell of an incident: a 119 call, a video or a sensor event."""

    id: str
    kind: str  # "call" | "video" | "sensor"
    at: datetime
    lat: float
    lon: float
    type: IncidentType
    description: str = ""
    source: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class OpenIncident:
    """What correlation needs to know of an incident."""

    id: str
    type: IncidentType
    status: IncidentStatus
    lat: float
    lon: float
    created_at: datetime
    last_activity_at: datetime


@dataclass(frozen=True, slots=True)
class Decision:
    incident_id: str | None  # None: open a new incident
    reason: str
    distance_m: float | None = None


def decide(signal: Signal, candidates: Iterable[OpenIncident], catalog: Catalog) -> Decision:
    """Attach ``signal`` to the nearest compatible open incident in range, or open a new one."""
    rule = catalog[signal.type]
    best: tuple[float, datetime, OpenIncident, float, float] | None = None
    for incident in candidates:
        if incident.status not in ACTIVE or not catalog.compatible(incident.type, signal.type):
            continue
        other = catalog[incident.type]
        radius = max(rule.radius_m, other.radius_m)
        window = max(rule.window_s, other.window_s)
        gap = abs((signal.at - incident.last_activity_at).total_seconds())
        if gap > window:
            continue
        dist = distance_m(signal.lat, signal.lon, incident.lat, incident.lon)
        if dist > radius:
            continue
        key = (dist, incident.created_at, incident, radius, gap)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return Decision(None, f"opened the incident ({signal.kind} {signal.id})")
    dist, _created, incident, radius, gap = best
    return Decision(
        incident.id,
        f"{signal.kind} within {dist:.0f} m (radius {radius:.0f} m) and {gap / 60:.1f} min "
        f"of {incident.id}: {signal.type.value} ~ {incident.type.value}",
        dist,
    )


class CandidateIndex:
    """Open incidents bucketed by cell, for fast lookups while a batch is correlated."""

    def __init__(self, incidents: Iterable[OpenIncident], *, search_radius_m: float) -> None:
        self._radius = search_radius_m
        self._by_cell: dict[str, list[OpenIncident]] = defaultdict(list)
        for incident in incidents:
            self.add(incident)

    def add(self, incident: OpenIncident) -> None:
        self._by_cell[cell_of(incident.lat, incident.lon)].append(incident)

    def near(self, lat: float, lon: float) -> list[OpenIncident]:
        found: list[OpenIncident] = []
        for cell in cells_within(lat, lon, self._radius):
            found.extend(self._by_cell.get(cell, ()))
        return found
