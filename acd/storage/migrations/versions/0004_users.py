"""Users (people and service accounts with hashed personal keys) and the leg files of
dual-channel recordings.

Revision ID: 0004_users
Revises: 0002_qa
Create Date: 2026-11-25 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_users"
down_revision: str | Sequence[str] | None = "0002_qa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("person", "service", name="user_kind", native_enum=False),
            nullable=False,
        ),
        sa.Column(
            "role",
            sa.Enum(
                "viewer", "agent", "supervisor", "qa", "admin", name="user_role", native_enum=False
            ),
            nullable=False,
        ),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("supervisor_id", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_key_id", ["key_id"], unique=True)

    op.create_table(
        "recording_legs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("recording_id", sa.String(length=64), nullable=False),
        sa.Column(
            "leg", sa.Enum("in", "out", name="recording_leg", native_enum=False), nullable=False
        ),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("encrypted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_legs_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_legs")),
    )
    with op.batch_alter_table("recording_legs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recording_legs_recording_id", ["recording_id", "leg"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("recording_legs", schema=None) as batch_op:
        batch_op.drop_index("ix_recording_legs_recording_id")
    op.drop_table("recording_legs")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_key_id")
    op.drop_table("users")
