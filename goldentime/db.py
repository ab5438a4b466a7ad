"""The incident database engine: SQLite by default, PostgreSQL by URL, same code.

SQLite runs in WAL mode with a busy timeout so the console can read while a worker writes.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from goldentime.errors import ConfigError, StoreError
from goldentime.settings import Settings


class Base(DeclarativeBase):
    """Declarative base of every table in the incident record."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
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
SCHEMA_MODULES: tuple[str, ...] = ("dispatch.store",)


def create_schema(engine: Engine) -> None:
    """Create every table that does not exist yet, for every module in SCHEMA_MODULES."""
    for module in SCHEMA_MODULES:
        importlib.import_module(module)
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as err:
        raise StoreError(f"cannot create the database schema: {err}") from err


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
