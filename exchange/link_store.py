"""What exchange keeps: links to foreign incidents and the requests between centres.

Incidents, calls and the timeline stay dispatch's; exchange only remembers which foreign
incident (by its EIDO incident tracking id) became which call here, the last EIDO received for
it (so a re-export keeps the partner's ids, calls, agencies and locations), and each joint-
response or mutual-aid request with its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Engine, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from goldentime.db import Base, UtcDateTime, session_factory, writer


@dataclass(frozen=True, slots=True)
class Sessions:
    """Reads, and read-decide-write transactions (on SQLite they take the write lock at BEGIN,
    so a read that turns into a write never meets "database is locked")."""

    reads: sessionmaker[Session]
    writes: sessionmaker[Session]

    @classmethod
    def of(cls, engine: Engine) -> Sessions:
        return cls(reads=session_factory(engine), writes=session_factory(writer(engine)))


class ForeignIncidentRow(Base):
    """One incident of another centre, as received (id: partner + foreign incident id)."""

    __tablename__ = "exchange_foreign_incidents"

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the call it became
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    foreign_incident_id: Mapped[str] = mapped_column(String(300), index=True)
    foreign_updated: Mapped[str] = mapped_column(String(60), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class RequestRow(Base):
    """A request for service or for units, sent or received, and what became of it."""

    __tablename__ = "exchange_requests"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # direction:partner:request
    direction: Mapped[str] = mapped_column(String(10))  # "received" or "sent"
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    request_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))  # "service" or "mutual_aid"
    incident_id: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    call_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending/accepted/declined
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboxRow(Base):
    """A message to a partner, kept until the partner acknowledged it (at least once)."""

    __tablename__ = "exchange_outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(200), unique=True)
    partner_id: Mapped[str] = mapped_column(String(80), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(80), nullable=True)  # ours
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class InboxRow(Base):
    """A partner message already handled (its id), so a re-sent one changes nothing."""

    __tablename__ = "exchange_inbox"

    id: Mapped[str] = mapped_column(String(250), primary_key=True)  # partner:message id
    partner_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CursorRow(Base):
    """How far this centre has caught up with a partner's incidents (for resubscribing)."""

    __tablename__ = "exchange_cursors"

    partner_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_update: Mapped[str] = mapped_column(String(60), default="")
