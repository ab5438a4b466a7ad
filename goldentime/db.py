"""The incident database engine: SQLite by default, PostgreSQL by URL, same code.

SQLite runs in WAL mode with a busy timeout so the console can read while a worker writes.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
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
SCHEMA_MODULES: tuple[str, ...] = ("dispatch.store", "alerts.store")


SCHEMA_TABLE = "goldentime_schema"


def schema_fingerprint() -> str:
    """A digest of every table, column and type: it changes whenever the schema does."""
    parts = []
    for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
        columns = ",".join(f"{c.name}:{c.type!r}" for c in table.columns)
        parts.append(f"{table.name}({columns})")
    return hashlib.sha256(";".join(parts).encode()).hexdigest()[:16]


def create_schema(engine: Engine) -> None:
    """Create the tables of every module in SCHEMA_MODULES, or check an existing database.

    A database made by a different schema is refused with a clear error rather than used:
    the incident record is never altered silently.
    """
    for module in SCHEMA_MODULES:
        importlib.import_module(module)
    fingerprint = schema_fingerprint()
    marker = Table(SCHEMA_TABLE, MetaData(), Column("fingerprint", String(32), primary_key=True))
    try:
        with engine.begin() as conn:
            tables = set(inspect(conn).get_table_names())
            if SCHEMA_TABLE in tables:
                found = conn.execute(select(marker.c.fingerprint)).scalars().all()
                if found and found != [fingerprint]:
                    raise StoreError(
                        f"the database at {engine.url!r} was made by another version of Golden "
                        f"Time (schema {found[0]}, this version needs {fingerprint}); move it "
                        "aside or point DATABASE_URL at a new database"
                    )
            elif tables & set(Base.metadata.tables):
                raise StoreError(
                    f"the database at {engine.url!r} has Golden Time tables but no schema "
                    "marker (made by an older version); move it aside or point DATABASE_URL "
                    "at a new database"
                )
            Base.metadata.create_all(conn)
            marker.create(conn, checkfirst=True)
            if not conn.execute(select(marker.c.fingerprint)).first():
                conn.execute(marker.insert().values(fingerprint=fingerprint))
    except IntegrityError:
        pass  # another process marked the new database at the same moment
    except SQLAlchemyError as err:
        raise StoreError(f"cannot create the database schema: {err}") from err


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
