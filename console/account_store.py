"""Console tables: user accounts, API tokens of machine clients, and the request audit log.

Declared on :class:`goldentime.db.Base` and registered for migrations in the
``goldentime.tables`` entry points (pyproject.toml), so migrations create them;
:func:`create_tables` creates only them, without migrations (isolated unit-test databases).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Engine, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from goldentime.db import Base, UtcDateTime


class UserRow(Base):
    """A person (or machine client) who may use the console."""

    __tablename__ = "console_users"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    roles: Mapped[str] = mapped_column(String(120))  # comma-separated, see console.roles
    password_hash: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str | None] = mapped_column(String(80), nullable=True)  # crew: their unit
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiTokenRow(Base):
    """A bearer token of a machine client; only its SHA-256 digest is stored."""

    __tablename__ = "console_api_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("console_users.name"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One state-changing request: who, when, what, and the answer."""

    __tablename__ = "console_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_name: Mapped[str] = mapped_column(String(80), index=True)
    via: Mapped[str] = mapped_column(String(10))  # session, token, demo
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    command_id: Mapped[str | None] = mapped_column(String(80), nullable=True)


TABLE_NAMES = (UserRow.__tablename__, ApiTokenRow.__tablename__, AuditRow.__tablename__)


def create_tables(engine: Engine) -> None:
    """Create only the console tables, without migrations (isolated unit-test databases)."""
    Base.metadata.create_all(engine, tables=[Base.metadata.tables[n] for n in TABLE_NAMES])
