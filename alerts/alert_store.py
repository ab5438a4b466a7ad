"""The alerts tables on :class:`goldentime.db.Base`: alerts, subscribers, deliveries, receipts.

Every delivery row is keyed by an idempotency key derived from (alert, channel, recipient)
and is unique, so a fan-out that crashes and resumes finds what it already sent. Receipt
events are unique per (provider message id, status), so duplicated callbacks change nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from goldentime.db import Base, UtcDateTime


class AlertState:
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


class AlertRow(Base):
    """One CAP alert through its life: drafted, approved and published, then updated/cancelled."""

    __tablename__ = "alert_messages"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    template: Mapped[str] = mapped_column(String(40), index=True)
    msg_type: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), index=True)
    exercise: Mapped[bool] = mapped_column(Boolean)
    references_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    duplicate_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    area_wkt: Mapped[str] = mapped_column(Text)
    gu_codes: Mapped[str] = mapped_column(Text, default="")
    text_ko: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    cap_xml: Mapped[str] = mapped_column(Text)


class SubscriberRow(Base):
    __tablename__ = "alert_subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="ko")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    exercise_participant: Mapped[bool] = mapped_column(Boolean, default=False)


class SubscriberLocationRow(Base):
    __tablename__ = "alert_subscriber_locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscribers.id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(40), default="home")


class DeliveryState:
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # handed to the provider; outcome unknown until recorded
    SENT = "sent"
    FAILED = "failed"


class DeliveryRow(Base):
    """One message to one recipient over one channel, with its receipt."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_alert_delivery_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(80), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    receipt_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    receipt_rank: Mapped[int] = mapped_column(Integer, default=0)
    receipt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReceiptEventRow(Base):
    """Every distinct status callback received (duplicates are dropped by the constraint)."""

    __tablename__ = "alert_receipt_events"
    __table_args__ = (UniqueConstraint("provider_id", "status", name="uq_alert_receipt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


def idempotency_key(alert_id: str, channel: str, recipient: str) -> str:
    """Stable key of one message: the same alert, channel and recipient give the same key."""
    return hashlib.sha256(f"{alert_id}\x1f{channel}\x1f{recipient}".encode()).hexdigest()


TABLE_NAMES = (
    AlertRow.__tablename__,
    SubscriberRow.__tablename__,
    SubscriberLocationRow.__tablename__,
    DeliveryRow.__tablename__,
    ReceiptEventRow.__tablename__,
)


def create_tables(engine: Engine) -> None:
    """Create only the alerts tables, without migrations (isolated test databases)."""
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[n] for n in TABLE_NAMES])


def begin_write(session: Session) -> None:
    """Take SQLite's write lock at the start of a transaction (no-op elsewhere).

    A SQLite transaction that reads and then writes fails at once with "database is locked"
    if another connection committed in between (a stale WAL snapshot; the busy timeout does
    not apply). An UPDATE that matches nothing still takes the write lock, waiting under the
    busy timeout, so read-then-write transactions queue instead of failing.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE alert_messages SET id = id WHERE 1 = 0"))
