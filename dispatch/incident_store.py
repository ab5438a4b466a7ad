"""The incident record: incidents, their calls and their append-only timeline.

Idempotent by construction: a call id is a primary key, so a replayed or duplicated call
changes nothing; incident and timeline ids are derived from the call id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from goldentime.contracts import Incident, IncidentStatus, IncidentType, TimelineEntry
from goldentime.db import Base, UtcDateTime


class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # console change feed
    revision: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    gu: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    cell: Mapped[str] = mapped_column(String(40), index=True, default="")
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    en_route_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    on_scene_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    merged_into: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # the clock skew of largest size among its calls (a sender's clock was wrong), or None
    clock_skew_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    calls: Mapped[list[CallRow]] = relationship(
        back_populates="incident", order_by="CallRow.received_at", lazy="selectin"
    )
    signals: Mapped[list[SignalRow]] = relationship(
        back_populates="incident", order_by="SignalRow.at", lazy="selectin"
    )
    units: Mapped[list[UnitRow]] = relationship(
        back_populates="incident", order_by="UnitRow.id", lazy="selectin"
    )


INCIDENT_COLUMNS = tuple(c.name for c in IncidentRow.__table__.columns)


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    # what orders and correlates the call: the sender's answer time, or the server's receipt
    # time when the sender's clock was off (clock_skew_s set; the claim is in the payload)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    clock_skew_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    type: Mapped[str] = mapped_column(String(40))
    caller: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    link_reason: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Caller location as the phone network gave it (AML, carrier): radius in metres, and source
    location_uncertainty_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    location_source: Mapped[str | None] = mapped_column(String(20), nullable=True)

    incident: Mapped[IncidentRow] = relationship(back_populates="calls")


class SignalRow(Base):
    """A video or sensor event attached to an incident (calls have their own table)."""

    __tablename__ = "incident_signals"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    type: Mapped[str] = mapped_column(String(40))
    link_reason: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)

    incident: Mapped[IncidentRow] = relationship(back_populates="signals")


class UnitRow(Base):
    """Current state of one vehicle."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(40))
    station_name: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("incidents.id"), nullable=True, index=True
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)  # change feed
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # the route it is driving (goldentime.contracts.routing.UnitRoute as JSON), or None
    route: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    incident: Mapped[IncidentRow | None] = relationship(back_populates="units")


class CommandRow(Base):
    """Every command once, with what became of it (the audit trail of decisions)."""

    __tablename__ = "commands"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    ok: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RecommendationRow(Base):
    """The latest recommendation of each incident."""

    __tablename__ = "recommendations"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    incident_revision: Mapped[int] = mapped_column(Integer)
    # when the content last changed (the console's change feed watches it) ...
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # ... and when it was last recomputed (the refresh sweep watches this one)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class TimelineRow(Base):
    __tablename__ = "incident_timeline"
    __table_args__ = (Index("ix_timeline_incident_seq", "incident_id", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(200), unique=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(80), default="system")


def incident_record(row: IncidentRow) -> Incident:
    """The wire form of an incident row, its members loaded through its relationships."""
    return incident_record_of(
        {column: getattr(row, column) for column in INCIDENT_COLUMNS},
        calls=[c.id for c in row.calls],
        events=[e.id for e in row.signals],
        units=[u.id for u in row.units],
    )


def incident_record_of(
    values: Mapping[str, Any], *, calls: list[str], events: list[str], units: list[str]
) -> Incident:
    """The wire form of an incident from its columns (a Core row mapping) and its members
    (queried in bulk)."""
    return Incident(
        id=values["id"],
        type=IncidentType(values["type"]),
        status=IncidentStatus(values["status"]),
        lat=values["lat"],
        lon=values["lon"],
        call_ids=calls,
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        description=values["description"],
        revision=values["revision"],
        priority=values["priority"],
        gu=values["gu"],
        event_ids=events,
        unit_ids=units,
        dispatched_at=values["dispatched_at"],
        en_route_at=values["en_route_at"],
        on_scene_at=values["on_scene_at"],
        closed_at=values["closed_at"],
        merged_into=values["merged_into"],
        clock_skew_s=values["clock_skew_s"],
    )


def larger_skew(current: float | None, other: float | None) -> float | None:
    """The clock skew of larger size (None: no skew)."""
    if other is None:
        return current
    if current is None or abs(other) > abs(current):
        return other
    return current


def timeline_record(row: TimelineRow) -> TimelineEntry:
    return TimelineEntry(
        id=row.id,
        incident_id=row.incident_id,
        at=row.at,
        kind=row.kind,
        detail=row.detail,
        actor=row.actor,
    )


def list_incidents(
    session: Session, *, status: str | None = None, limit: int = 500
) -> list[Incident]:
    """Incidents, newest first."""
    query = select(IncidentRow).order_by(IncidentRow.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(IncidentRow.status == status)
    return [incident_record(r) for r in session.scalars(query)]


def get_incident(session: Session, incident_id: str) -> IncidentRow | None:
    return session.get(IncidentRow, incident_id)


def get_timeline(session: Session, incident_id: str) -> list[TimelineEntry]:
    rows = session.scalars(
        select(TimelineRow).where(TimelineRow.incident_id == incident_id).order_by(TimelineRow.seq)
    )
    return [timeline_record(r) for r in rows]


class WorkerRow(Base):
    """Liveness of each dispatch worker: last heartbeat and how many partitions it holds."""

    __tablename__ = "dispatch_workers"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    partitions: Mapped[int] = mapped_column(Integer, default=0)


def record_heartbeat(
    session: Session, *, name: str, started_at: datetime, now: datetime, partitions: int
) -> None:
    session.merge(WorkerRow(name=name, started_at=started_at, last_seen=now, partitions=partitions))


def live_workers(session: Session, *, now: datetime, max_age_s: float) -> list[WorkerRow]:
    """Workers heard from within ``max_age_s`` seconds."""
    rows = session.scalars(select(WorkerRow).order_by(WorkerRow.name))
    return [r for r in rows if (now - r.last_seen).total_seconds() <= max_age_s]


def latest_recommendation(session: Session, incident_id: str) -> dict[str, Any] | None:
    row = session.get(RecommendationRow, incident_id)
    return None if row is None else dict(row.payload)


class StructureClosureRow(Base):
    """One critical episode of a monitored structure and the road closure it caused.

    The id is the closure id (derived from the alarm that opened the episode). ``edges`` is
    empty for a structure outside the road graph (the episode is kept all the same, so a
    second critical alarm of the structure does not draft a second warning). Active
    closures (``reopened_at`` is NULL) are re-applied to the road network at worker start.
    """

    __tablename__ = "structure_closures"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    structure_id: Mapped[str] = mapped_column(String(80), index=True)
    structure_name: Mapped[str] = mapped_column(String(200), default="")
    edges: Mapped[list[list[int]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    reopen_reason: Mapped[str] = mapped_column(Text, default="")


class SensorAlarmRow(Base):
    """Every sensor alarm dispatch acted on, once (idempotency by alarm id) and what it did."""

    __tablename__ = "sensor_alarms"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    structure_id: Mapped[str] = mapped_column(String(80), index=True)
    level: Mapped[str] = mapped_column(String(20))
    structure_level: Mapped[str] = mapped_column(String(20))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    incident_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(300))
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime)
