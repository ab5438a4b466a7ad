"""intake outbox: accepted records kept until their consumer has processed them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import goldentime.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_outbox",
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("accepted_at", goldentime.db.UtcDateTime(), nullable=False),
        sa.Column("sent_at", goldentime.db.UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "record_id"),
    )
    with op.batch_alter_table("intake_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_outbox_accepted_at"), ["accepted_at"])
        batch_op.create_index(batch_op.f("ix_intake_outbox_sent_at"), ["sent_at"])


def downgrade() -> None:
    with op.batch_alter_table("intake_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_outbox_sent_at"))
        batch_op.drop_index(batch_op.f("ix_intake_outbox_accepted_at"))
    op.drop_table("intake_outbox")
