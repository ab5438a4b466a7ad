"""Schema migrations (Alembic), run in one locked transaction so that several processes
starting at once migrate exactly once.

``goldentime db upgrade`` (and every process at start) brings the database to the newest
revision; a database made by a newer Golden Time, or by an early version without migrations,
is refused with a clear error rather than altered.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from goldentime.db import Base, load_schema_modules, writer
from goldentime.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = zlib.crc32(b"goldentime-migrate")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except (CommandError, ResolutionError):
        return False


def _check_known(conn: Connection) -> None:
    tables = set(inspect(conn).get_table_names())
    ours = tables & set(Base.metadata.tables)
    if ours and "alembic_version" not in tables:
        raise StoreError(
            f"the database has Golden Time tables ({', '.join(sorted(ours)[:3])}, ...) but no "
            "migration history: it was made by an early version; move it aside or point "
            "DATABASE_URL at a new database"
        )
    revision = current_revision(conn)
    if revision is not None and not _known_revision(revision):
        raise StoreError(
            f"the database is at schema revision {revision}, which this Golden Time does not "
            f"know (newest here: {head_revision()}): it was made by a newer version"
        )


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema revision (idempotent, safe concurrently)."""
    load_schema_modules()
    try:
        with writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
            _check_known(conn)
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except CommandError as err:
        raise StoreError(f"cannot migrate the database: {err}") from err
    except SQLAlchemyError as err:
        raise StoreError(f"cannot migrate the database: {err}") from err
