"""Correlation rules: does a signal (call, video or sensor event) belong to an open incident?

Pure functions over plain values, so the rules are unit-tested without a database. A signal
attaches to the nearest open incident of a compatible type (same family) within the larger of
the two types' radius and time window, measured from the incident's location and its latest
activity; otherwise it opens a new incident. Every decision carries its reason.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.catalog import Catalog
from dispatch.cells import cell_index, cell_span, distance_m
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
    # A position known only to within a wide circle (a carrier's cell fix) says little about
    # which incident the caller means: never attach by distance when the circle is wider than
    # the correlation radius (a wrong merge hides an emergency; a duplicate is merged by hand).
    uncertainty = signal.payload.get("location_uncertainty_m") if signal.payload else None
    vague: float | None = None
    for incident in candidates:  # the hot loop of correlation: cheapest tests first
        if incident.status not in ACTIVE:
            continue
        other = catalog[incident.type]
        if other.family != rule.family:
            continue
        window = max(rule.window_s, other.window_s)
        gap = abs((signal.at - incident.last_activity_at).total_seconds())
        if gap > window:
            continue
        radius = max(rule.radius_m, other.radius_m)
        dist = distance_m(signal.lat, signal.lon, incident.lat, incident.lon)
        if dist > radius:
            continue
        if uncertainty is not None and uncertainty > radius:
            vague = radius
            continue
        if best is None or (dist, incident.created_at) < best[:2]:
            best = (dist, incident.created_at, incident, radius, gap)
    if best is None:
        if vague is not None:
            return Decision(
                None,
                f"opened the incident ({signal.kind} {signal.id}): location ±{uncertainty:.0f} m "
                f"too uncertain to join one within {vague:.0f} m",
            )
        return Decision(None, f"opened the incident ({signal.kind} {signal.id})")
    dist, _created, incident, radius, gap = best
    return Decision(
        incident.id,
        f"{signal.kind} within {dist:.0f} m (radius {radius:.0f} m) and {gap / 60:.1f} min "
        f"of {incident.id}: {signal.type.value} ~ {incident.type.value}",
        dist,
    )


class CandidateIndex:
    """Open incidents bucketed by cell and by time of last activity, for a batch's lookups.

    A signal at time t can only join an incident last active within the longest window W of
    t, so ``near`` looks at the 3 x 3 cells around the point and, in each, the time slots of
    width W around t. Partitions are consumed at different paces (after an outage one may be
    hours behind another), so the incidents stored by other workers may be far ahead in time;
    the time slots keep them out of the lookups rather than in every one.
    """

    def __init__(
        self, incidents: Iterable[OpenIncident], *, search_radius_m: float, window_s: float
    ) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, not {window_s}")
        self._radius = search_radius_m
        self._window_s = window_s
        self._buckets: dict[tuple[int, int, int], list[OpenIncident]] = defaultdict(list)
        for incident in incidents:
            self.add(incident)

    def _slot(self, at: datetime) -> int:
        return math.floor(at.timestamp() / self._window_s)

    def _key(self, incident: OpenIncident) -> tuple[int, int, int]:
        row, col = cell_index(incident.lat, incident.lon)
        return row, col, self._slot(incident.last_activity_at)

    def add(self, incident: OpenIncident) -> None:
        self._buckets[self._key(incident)].append(incident)

    def touch(self, incident: OpenIncident, at: datetime) -> None:
        """Record new activity on an indexed incident (it may move to a later time slot)."""
        old = self._key(incident)
        incident.last_activity_at = at
        new = self._key(incident)
        if new != old:
            self._buckets[old].remove(incident)
            self._buckets[new].append(incident)

    def near(self, lat: float, lon: float, at: datetime) -> list[OpenIncident]:
        """Incidents within the search radius's cells, last active within about a window of
        ``at`` (a superset of those that may match: ``decide`` applies the exact rules)."""
        found: list[OpenIncident] = []
        buckets = self._buckets
        r0, r1, c0, c1 = cell_span(lat, lon, self._radius)
        slot = self._slot(at)
        for row in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                for when in (slot - 1, slot, slot + 1):
                    bucket = buckets.get((row, col, when))
                    if bucket:
                        found.extend(bucket)
        return found
