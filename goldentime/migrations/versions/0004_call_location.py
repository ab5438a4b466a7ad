"""caller location uncertainty on calls (AML / network location)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location_uncertainty_m", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("location_source", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("location_source")
        batch_op.drop_column("location_uncertainty_m")
