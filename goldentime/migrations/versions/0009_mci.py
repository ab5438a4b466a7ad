"""mass-casualty incidents: MCI rows, patient assignments, calls by time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mci_incidents",
        sa.Column("incident_id", sa.String(length=80), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("calls_in_window", sa.Integer(), nullable=False),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("casualty_estimate", sa.Integer(), nullable=False),
        sa.Column("casualty_reason", sa.Text(), nullable=False),
        sa.Column("proposed_level", sa.Integer(), nullable=False),
        sa.Column("proposed_reason", sa.Text(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_level", sa.Integer(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=80), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("staging_lat", sa.Float(), nullable=True),
        sa.Column("staging_lon", sa.Float(), nullable=True),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("green", sa.Integer(), nullable=False),
        sa.Column("black", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    with op.batch_alter_table("mci_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mci_incidents_last_at"), ["last_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mci_incidents_updated_at"), ["updated_at"], unique=False
        )
    op.create_table(
        "mci_patients",
        sa.Column("incident_id", sa.String(length=80), nullable=False),
        sa.Column("patient", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("triage", sa.String(length=10), nullable=False),
        sa.Column("er_id", sa.String(length=80), nullable=False),
        sa.Column("er_name", sa.String(length=200), nullable=False),
        sa.Column("eta_s", sa.Float(), nullable=False),
        sa.Column("er_capacity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.PrimaryKeyConstraint("incident_id", "patient"),
    )
    with op.batch_alter_table("mci_patients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mci_patients_er_id"), ["er_id"], unique=False)
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index("ix_calls_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_received_at")
    op.drop_table("mci_patients")
    op.drop_table("mci_incidents")
