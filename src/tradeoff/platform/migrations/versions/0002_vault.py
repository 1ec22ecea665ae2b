"""privacy vault: subject data keys

Revision ID: 0002_vault
Revises: 0001
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0002_vault"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_keys",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("key_version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "subject_id", "key_version", name=op.f("pk_subject_keys")),
    )


def downgrade() -> None:
    op.drop_table("subject_keys")
