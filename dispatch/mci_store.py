"""Mass-casualty incidents: the MCI row of an incident and its patients' ER assignments.

An incident becomes an MCI when the intake folds a surge of calls into it
(``dispatch.surge_intake``). Its row holds the surge's extent (for the board's banner), the
casualty estimate, the proposed response level (대응 n단계) with its reason, the level a
supervisor confirmed, the staging point and the START triage counts from the scene. Patient
assignments are append-only: patient numbers run on per incident, so distributing again after
new triage counts places only the patients not placed yet. Every state is in the database
(a restarted worker carries on from it); ids derive from what caused them (idempotent).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.incident_store import CallRow
from goldentime.db import Base, UtcDateTime

TRIAGE_COLUMNS = ("red", "yellow", "green", "black")

# The surge search reads the calls of the last minutes around a point: by time first.
CALLS_BY_TIME = Index("ix_calls_received_at", CallRow.__table__.c.received_at)


class MciRow(Base):
    """The mass-casualty side of one incident."""

    __tablename__ = "mci_incidents"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    # the surge as last seen: centre, extent, calls in the window (the board's banner)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    calls_in_window: Mapped[int] = mapped_column(Integer)
    window_s: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(120), default="")
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # casualty estimate from the incident's calls (dispatch.mci.estimate_casualties)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    casualty_estimate: Mapped[int] = mapped_column(Integer, default=0)
    casualty_reason: Mapped[str] = mapped_column(Text, default="")
    # the highest level proposed so far, why and when (it never falls by itself)
    proposed_level: Mapped[int] = mapped_column(Integer, default=1)
    proposed_reason: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # a supervisor's confirmation (mci_level command)
    confirmed_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    staging_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    staging_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    # START triage counts from the scene (triage command)
    red: Mapped[int] = mapped_column(Integer, default=0)
    yellow: Mapped[int] = mapped_column(Integer, default=0)
    green: Mapped[int] = mapped_column(Integer, default=0)
    black: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PatientRow(Base):
    """One patient of an MCI sent to an emergency room (distribute command)."""

    __tablename__ = "mci_patients"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    patient: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    triage: Mapped[str] = mapped_column(String(10))
    er_id: Mapped[str] = mapped_column(String(80), index=True)
    er_name: Mapped[str] = mapped_column(String(200))
    eta_s: Mapped[float] = mapped_column(Float)
    er_capacity: Mapped[int] = mapped_column(Integer)  # the ER's capacity when assigned
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    command_id: Mapped[str] = mapped_column(String(80))
