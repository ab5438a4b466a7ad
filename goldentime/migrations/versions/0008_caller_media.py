"""caller media: one-time links, caller positions, snapshots, recordings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "caller_media_links",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=80), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("sms_status", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_digest", sa.String(length=64), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("best_accuracy_m", sa.Float(), nullable=False),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    with op.batch_alter_table("caller_media_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caller_media_links_call_id"), ["call_id"], unique=False
        )
    op.create_table(
        "caller_media_locations",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["caller_media_links.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("caller_media_locations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caller_media_locations_link_id"), ["link_id"], unique=False
        )
    op.create_table(
        "caller_media_snapshots",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.String(length=80), nullable=False),
        sa.Column("incident_id", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("taken_by", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["caller_media_links.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("caller_media_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caller_media_snapshots_call_id"), ["call_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_caller_media_snapshots_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_caller_media_snapshots_link_id"), ["link_id"], unique=False
        )
    op.create_table(
        "caller_media_recordings",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["caller_media_links.id"]),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("caller_media_recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caller_media_recordings_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_caller_media_recordings_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_caller_media_recordings_link_id"), ["link_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("caller_media_recordings")
    op.drop_table("caller_media_snapshots")
    op.drop_table("caller_media_locations")
    op.drop_table("caller_media_links")
