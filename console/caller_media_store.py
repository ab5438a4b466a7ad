"""Tables of caller media: one-time links sent by SMS, positions, snapshots, recordings.

Only the SHA-256 digest of a link's token is stored, like API tokens: a database reader
cannot open a caller's link. Declared on :class:`goldentime.db.Base` (migration 0008).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from goldentime.db import Base, UtcDateTime


class MediaLinkRow(Base):
    """One link sent to one caller, bound to one call."""

    __tablename__ = "caller_media_links"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sms_status: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Digest of the caller's browser session secret (cookie), set when the link is claimed.
    session_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Best location accuracy so far (m): a fix must beat it to move the incident.
    best_accuracy_m: Mapped[float] = mapped_column(Float)
    recording: Mapped[bool] = mapped_column(Boolean, default=False)


class MediaLocationRow(Base):
    """A position the caller's phone reported (WGS84, accuracy radius in metres)."""

    __tablename__ = "caller_media_locations"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("caller_media_links.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)


class MediaSnapshotRow(Base):
    """A still image kept with the incident: a caller's photo or a dispatcher's snapshot."""

    __tablename__ = "caller_media_snapshots"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("caller_media_links.id"), index=True)
    call_id: Mapped[str] = mapped_column(String(80), index=True)
    incident_id: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str] = mapped_column(String(20))  # caller | console
    taken_by: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MediaRecordingRow(Base):
    """A piece (a few seconds of WebM) of a caller's stream, recorded with a supervisor's
    permission; deleted after ``caller_media_recording_retention_days``."""

    __tablename__ = "caller_media_recordings"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    link_id: Mapped[str] = mapped_column(ForeignKey("caller_media_links.id"), index=True)
    incident_id: Mapped[str] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
