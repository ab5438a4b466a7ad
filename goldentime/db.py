"""The incident database engine: SQLite by default, PostgreSQL by URL, same code.

SQLite runs in WAL mode with a busy timeout so the console can read while a worker writes.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from goldentime.errors import ConfigError
from goldentime.settings import Settings


class Base(DeclarativeBase):
    """Declarative base of every table in the incident record."""


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC and read back aware (SQLite drops the offset).

    Migrations store it as ``DateTime(timezone=True)``, which is its ``impl``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")  # first: the journal switch may have to wait
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """BEGIN IMMEDIATE for writers that read before they decide (see :func:`writer`)."""
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine for read-decide-write transactions.

    On SQLite these take the write lock at BEGIN, so two workers can never both read "no
    incident here" and both open one. PostgreSQL callers lock what they decide on instead
    (advisory locks, see ``dispatch.intake``).
    """
    return engine.execution_options(sqlite_immediate=True)


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the settings each backend needs."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(f"DATABASE_URL is not a database URL: {url!r}") from err
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (SQLAlchemyError, ImportError) as err:
        raise ConfigError(f"cannot use DATABASE_URL {parsed!r}: {err}") from err


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.effective_database_url)


# Modules that declare tables on Base; imported by name so the shell does not depend on them.
# A change to their tables needs a migration (goldentime/migrations; a test compares them).
SCHEMA_MODULES: tuple[str, ...] = ("dispatch.store", "alerts.store", "console.store")


def load_schema_modules() -> None:
    """Import every module that declares tables, so Base.metadata is complete."""
    for module in SCHEMA_MODULES:
        importlib.import_module(module)


def create_schema(engine: Engine) -> None:
    """Bring the database to this version's schema (Alembic migrations, see goldentime.migrate).

    A database made by a newer version, or by an early one without migration history, is
    refused with a clear error: the incident record is never altered silently.
    """
    from goldentime.migrate import upgrade

    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
