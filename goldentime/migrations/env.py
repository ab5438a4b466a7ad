"""Alembic environment: migrations run only through :func:`goldentime.migrate.upgrade`,
which hands over a connection inside a locked transaction."""

from __future__ import annotations

from alembic import context

from goldentime.db import Base, load_schema_modules

load_schema_modules()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `goldentime db upgrade` (goldentime.migrate.upgrade)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
