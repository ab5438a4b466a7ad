"""The incident database engine: SQLite by default, PostgreSQL by URL, same code.

SQLite runs in WAL mode with a busy timeout so the console can read while a worker writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    DateTime,
    Engine,
    String,
    Table,
    TypeDecorator,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Dialect, make_url
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

    # SQLite keeps datetimes as text. SQLAlchemy's own conversion (a %-format of a dict one
    # way, a regular expression the other) costs more than the intake's correlation; these
    # write exactly its format ("2026-11-27 03:00:00.000000", UTC) with the C isoformat.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the database")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return to_text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def from_text(value: str | None) -> datetime | None:
            if value is None:
                return None
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

        return from_text


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


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# JSON columns (call payloads, recommendations) through orjson: the intake writes one per call
JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the settings each backend needs."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(f"DATABASE_URL is not a database URL: {url!r}") from err
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **JSON_CODEC)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, **JSON_CODEC)
    except (SQLAlchemyError, ImportError) as err:
        raise ConfigError(f"cannot use DATABASE_URL {parsed!r}: {err}") from err


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.effective_database_url)


# The entry-point group naming the modules that declare tables on Base. The packages register
# them in pyproject.toml (``[project.entry-points."goldentime.tables"]``), so the ground floor
# names none of them. A change to their tables needs a migration (goldentime/migrations; a
# test compares them).
TABLE_MODULES_GROUP = "goldentime.tables"


def load_schema_modules() -> None:
    """Import every module that declares tables, so Base.metadata is complete.

    ConfigError when none is registered: the package is not installed (``pip install -e .``),
    and migrations would otherwise see an empty schema.
    """
    registered = entry_points(group=TABLE_MODULES_GROUP)
    if not registered:
        raise ConfigError(
            f"no table modules registered in the {TABLE_MODULES_GROUP!r} entry points: "
            "install the goldentime package (pip install -e .)"
        )
    for entry in sorted(registered, key=lambda e: e.name):
        entry.load()


def create_schema(engine: Engine) -> None:
    """Bring the database to this version's schema (Alembic migrations, see goldentime.migrate).

    A database made by a newer version, or by an early one without migration history, is
    refused with a clear error: the incident record is never altered silently.
    """
    from goldentime.migrate import upgrade

    upgrade(engine)


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


def one_of(
    column: ColumnElement[Any], values: Sequence[str], *, dialect: str
) -> ColumnElement[bool]:
    """``column IN values`` as one bound parameter, however many values there are.

    An expanding ``IN`` renders a parameter per value at every execution (thousands per
    intake batch); SQLite reads a JSON array with ``json_each`` and PostgreSQL takes an array.
    """
    if dialect == "sqlite":
        table = func.json_each(
            bindparam(None, _json_text(list(values)), type_=String)
        ).table_valued("value")
        return column.in_(select(table.c.value))
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(list(values))


@dataclass(frozen=True, slots=True)
class _InsertPlan:
    sql: str
    keys: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


# per dialect class and paramstyle (not the instance: a freed one's id may come back)
_insert_plans: dict[tuple[type[Dialect], str, Table, tuple[str, ...]], _InsertPlan] = {}


def _insert_plan(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _InsertPlan:
    cache_key = (type(dialect), dialect.paramstyle, table, keys)
    plan = _insert_plans.get(cache_key)
    if plan is None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup or ()) if compiled.positional else keys
        plan = _InsertPlan(
            sql=str(compiled),
            keys=order,
            processors=tuple(
                table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
            ),
            positional=compiled.positional,
        )
        _insert_plans[cache_key] = plan
    return plan


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) in one executemany.

    The statement and each column's value processing (time zones, JSON) are the dialect's
    own, as ``Connection.execute`` would use; what is skipped is its per-row parameter
    assembly, a third of the call intake's database time.
    """
    if not rows:
        return
    plan = _insert_plan(connection.dialect, table, tuple(rows[0]))
    values: list[Any] = [list(map(row.__getitem__, plan.keys)) for row in rows]
    for position, process in enumerate(plan.processors):  # column by column: few have one
        if process is not None:
            for value in values:
                value[position] = process(value[position])
    if plan.positional:
        connection.exec_driver_sql(plan.sql, list(map(tuple, values)))
    else:
        connection.exec_driver_sql(plan.sql, [dict(zip(plan.keys, v, strict=True)) for v in values])
