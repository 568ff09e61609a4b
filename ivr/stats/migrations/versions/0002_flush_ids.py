"""The ids of the batches stored: a batch whose commit went unconfirmed is never stored twice.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_flushes",
        sa.Column("flush_id", sa.String(32), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("flush_id"),
    )


def downgrade() -> None:
    op.drop_table("stats_flushes")
