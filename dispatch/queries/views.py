"""What dispatch's read functions return: frozen values, never ORM rows.

Incidents and units travel in their wire forms (``goldentime.contracts``: ``Incident``,
``RoutedUnitState``, ``TimelineEntry``, ``CommandResult``); the values here are the rest of what
the console and the exchange read (a call as stored, an incident with its members, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from goldentime.contracts import Incident
from goldentime.contracts.routing import RoutedUnitState


@dataclass(frozen=True, slots=True)
class CallView:
    """One stored call: where it was made, by whom, and why it joined its incident."""

    id: str
    incident_id: str
    received_at: datetime  # the sender's answer time, or the receipt time when its clock was off
    clock_skew_s: float | None
    lat: float
    lon: float
    type: str
    caller: str | None
    description: str
    source: str
    link_reason: str
    payload: Mapping[str, Any]  # the call as received (its claimed ``received_at`` among others)
    location_uncertainty_m: float | None
    location_source: str | None


@dataclass(frozen=True, slots=True)
class SignalView:
    """A video or sensor event attached to an incident."""

    id: str
    kind: str
    incident_id: str
    at: datetime
    lat: float
    lon: float
    type: str
    link_reason: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with its calls (by receipt), signals (by time) and units (by id)."""

    record: Incident
    calls: tuple[CallView, ...]
    signals: tuple[SignalView, ...]
    units: tuple[RoutedUnitState, ...]


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """A timeline entry with its place in the incident's timeline (``seq``, ascending)."""

    seq: int
    id: str
    incident_id: str
    at: datetime
    kind: str
    detail: str
    actor: str


@dataclass(frozen=True, slots=True)
class Unlink:
    """A call an applied ``unlink`` command took out of one incident into a new one."""

    command_id: str
    call_id: str
    other_incident_id: str  # the incident on the other side of the unlink
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class UnitPlace:
    """Where a unit is (the coverage model's input)."""

    id: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class WorkerView:
    """A dispatch worker's liveness: its last heartbeat and how many partitions it holds."""

    name: str
    started_at: datetime
    last_seen: datetime
    partitions: int


@dataclass(frozen=True, slots=True)
class MciLevel:
    """The response level (대응 n단계) of a mass-casualty incident: proposed and confirmed."""

    proposed: int
    confirmed: int | None
